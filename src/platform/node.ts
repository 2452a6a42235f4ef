// What differs between Node and browsers, Node's side. Browser builds swap this module for
// ./browser.ts (tsup.config.ts), so nothing a browser lacks (`node:*` built-ins, `ws`) is reachable
// from their bundle. Both modules export the same names.
import WebSocket from 'ws'
import { createNodePoster } from './nodePoster.js'
import type { HttpPoster, HttpPosterOptions } from './httpPoster.js'
import type { WebSocketConstructor } from '../types/webSocket.js'

/** The HTTP transport used when no `fetch` is injected: `node:http`, which costs a third of undici fetch's CPU. */
export function createDefaultPoster(options: HttpPosterOptions): HttpPoster {
  return createNodePoster(options)
}

/** The WebSocket implementation used when none is injected: `ws`, else the platform's own. */
export function defaultWebSocket(): WebSocketConstructor | undefined {
  // ws's constructor takes (url, protocols, { headers }) and speaks the same event API as a
  // browser's; its extra ping/pong/terminate are what ws.ts feature-detects (Node's own global
  // WebSocket, like a browser's, cannot send protocol pings). A bundler that follows ws's `browser`
  // field hands us a stub that only throws (and lacks ws's static readyState constants): then the
  // global WebSocket is the right one.
  if (typeof (WebSocket as { OPEN?: unknown }).OPEN === 'number') return WebSocket as unknown as WebSocketConstructor
  return (globalThis as { WebSocket?: unknown }).WebSocket as WebSocketConstructor | undefined
}
