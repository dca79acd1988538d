// The contract as TypeScript: the committed schema and the client operations the
// contract checks (tests/operations/), turned into typed documents by graphql-codegen's
// client preset. `make client-types` writes generated/; the tests check it is up to date
// (CLIENT_TYPES_OUT points the same generation elsewhere) and compiles.
import type { CodegenConfig } from "@graphql-codegen/cli";

const out = process.env.CLIENT_TYPES_OUT ?? "generated/";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["../tests/operations/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // An ISO 8601 string with its offset, as the API sends it.
        scalars: { DateTime: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
        // Only what the operations use: the contract a front end sees.
        onlyOperationTypes: true,
      },
    },
  },
};

export default config;
