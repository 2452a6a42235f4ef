// What differs between Node and browsers, the browser's side: replaces ./node.ts in the browser
// build (tsup.config.ts). Only web platform APIs: global `fetch` and `WebSocket`.
import { createFetchPoster } from './fetchPoster.js'
import type { HttpPoster, HttpPosterOptions } from './httpPoster.js'
import type { WebSocketConstructor } from '../types/webSocket.js'

/** The HTTP transport used when no `fetch` is injected: the global `fetch`, read at call time. */
export function createDefaultPoster(options: HttpPosterOptions): HttpPoster {
  return createFetchPoster((input, init) => globalThis.fetch(input, init), options)
}

/** The WebSocket implementation used when none is injected: the global one. */
export function defaultWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: unknown }).WebSocket as WebSocketConstructor | undefined
}
