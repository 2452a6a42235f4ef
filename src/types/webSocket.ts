// The shape of a WebSocket as the transport uses it: the browser API, or `ws`'s in Node.

/** What a WebSocket event carries that this transport reads: `data` (message), `code` (close), `error` (ws's error event). */
export type WebSocketEventLike = { data?: unknown; code?: number; error?: unknown }

/** The part of a WebSocket this transport uses: the browser API, plus `ws`'s extras when present. */
export type WebSocketLike = {
  readonly readyState: number
  binaryType?: string
  send(data: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: WebSocketEventLike) => void): void
  removeEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: WebSocketEventLike) => void): void
  /** `ws` only: sends a protocol ping; the answer arrives as a `pong` event. */
  ping?(): void
  /** `ws` only: destroys the TCP socket at once, without waiting for a closing handshake. */
  terminate?(): void
  on?(event: 'pong', listener: () => void): unknown
  off?(event: 'pong', listener: () => void): unknown
}

/** A WebSocket constructor: `ws`'s (which takes `{ headers, maxPayload }`) or a browser's (which ignores the third argument). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: { headers?: Record<string, string>; maxPayload?: number }) => WebSocketLike
