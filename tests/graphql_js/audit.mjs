// graphql-http's audits of the GraphQL over HTTP specification against one URL;
// prints one JSON array of {id, name, status, reason}. Node's own fetch.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const headers = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const fetchWithHeaders = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
const results = await auditServer({ url, fetchFn: fetchWithHeaders });
const summary = results.map((result) => ({
  id: result.id,
  name: result.name,
  status: result.status,
  reason: result.status === "ok" ? null : result.reason,
}));
process.stdout.write(JSON.stringify(summary));
