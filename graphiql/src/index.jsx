// GraphiQL for graphql-api, bundled so the page needs nothing from another host.
// The server's HTML page carries the endpoint in data-endpoint; no inline script,
// so the Content-Security-Policy can keep script-src to 'self'.
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';

// Monaco runs its language services in web workers; build.mjs emits them next to
// this file, so they load from the same folder (same origin).
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = label === 'json' ? 'json' : label === 'graphql' ? 'graphql' : 'editor';
    return new Worker(new URL(`./${name}.worker.js`, import.meta.url));
  },
};

const root = document.getElementById('graphiql');
// Subscriptions go over a websocket to the same endpoint on the same origin
// (graphql-transport-ws); the Headers tab's entries travel in connection_init.
const socketScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = createGraphiQLFetcher({
  url: root.dataset.endpoint,
  subscriptionUrl: `${socketScheme}//${window.location.host}${root.dataset.endpoint}`,
});
const plugins = [explorerPlugin()];

createRoot(root).render(
  <GraphiQL fetcher={fetcher} plugins={plugins} isHeadersEditorEnabled={true} />,
);
