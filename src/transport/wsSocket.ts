// The default WebSocket (`ws` in Node, the global one in browsers) is a platform choice: it lives in
// src/platform/, the only place that imports `ws`, so a browser build never bundles it.
export { defaultWebSocket } from '../platform/node.js'
