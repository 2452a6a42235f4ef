// Node's default WebSocket: the `ws` package, because it can send protocol pings (Node's own global
// WebSocket, like a browser's, cannot). This is the only module that imports `ws`, so a browser
// build swaps it for a module whose defaultWebSocket() returns globalThis.WebSocket and never
// bundles `ws`.
import WebSocket from 'ws'
import type { WebSocketConstructor } from './wsOptions.js'

/** The WebSocket implementation used when none is injected. */
export function defaultWebSocket(): WebSocketConstructor | undefined {
  // ws's constructor takes (url, protocols, { headers }) and speaks the same event API as a
  // browser's; its extra ping/pong/terminate are what ws.ts feature-detects.
  return WebSocket as unknown as WebSocketConstructor
}
