// The sha256 of each document as graphql-js prints it: what a JavaScript client
// (Apollo's persisted queries, a manifest generator) sends as the document's hash.
// Reads {"name": "document text", ...} on stdin; prints {"name": "hex", ...}.
import { createHash } from "node:crypto";
import { parse, print } from "graphql";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const hashes = {};
for (const [name, text] of Object.entries(JSON.parse(input))) {
  hashes[name] = createHash("sha256").update(print(parse(text))).digest("hex");
}
process.stdout.write(JSON.stringify(hashes));
