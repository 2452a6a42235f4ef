// Node's default WebSocket: the `ws` package, because it can send protocol pings (Node's own global
// WebSocket, like a browser's, cannot). This is the only module that imports `ws`, so a browser
// build swaps it for a module whose defaultWebSocket() returns globalThis.WebSocket and never
// bundles `ws`.
import WebSocket from 'ws'
import type { WebSocketConstructor } from './wsOptions.js'

/** The WebSocket implementation used when none is injected: `ws`, else the platform's own. */
export function defaultWebSocket(): WebSocketConstructor | undefined {
  // ws's constructor takes (url, protocols, { headers }) and speaks the same event API as a
  // browser's; its extra ping/pong/terminate are what ws.ts feature-detects. A bundler that follows
  // ws's `browser` field hands us a stub that only throws (and lacks ws's static readyState
  // constants): then the global WebSocket is the right one, even before the browser build swaps
  // this module.
  if (typeof (WebSocket as { OPEN?: unknown }).OPEN === 'number') return WebSocket as unknown as WebSocketConstructor
  return (globalThis as { WebSocket?: unknown }).WebSocket as WebSocketConstructor | undefined
}
