// Bundles GraphiQL and Monaco's workers into dist/ (each also gzipped), which the API
// serves at /graphql/assets/.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const outdir = 'dist';
rmSync(outdir, { recursive: true, force: true });

const common = {
  bundle: true,
  minify: true,
  legalComments: 'linked',
  target: ['es2022'],
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};

// graphiql/style.css already holds Monaco's styles (and its codicon font as a data:
// URL); Monaco's modules import the same CSS again, which would ship it twice.
const monacoCssOnce = {
  name: 'monaco-css-once',
  setup(build) {
    build.onResolve({ filter: /\.css$/ }, (args) =>
      args.importer.includes('/node_modules/monaco-editor/')
        ? { path: args.path, namespace: 'monaco-css-once' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'monaco-css-once' }, () => ({
      contents: '',
      loader: 'css',
    }));
  },
};

await esbuild.build({
  ...common,
  entryPoints: { graphiql: 'src/index.jsx' },
  outdir,
  format: 'esm',
  jsx: 'automatic',
  plugins: [monacoCssOnce],
});

// Monaco runs its language services in web workers, each its own script.
await esbuild.build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  outdir,
  format: 'iife',
});

// Compressed once here, so the API's event loop never spends time gzipping 7 MB.
for (const name of readdirSync(outdir)) {
  if (/\.(js|css)$/.test(name)) {
    const file = join(outdir, name);
    const level = { level: constants.Z_BEST_COMPRESSION };
    writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), level));
  }
}
