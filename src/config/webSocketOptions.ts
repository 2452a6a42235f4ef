// Options of the WebSocket transport (src/transport/ws.ts); their defaults are in ./defaults.ts.
import type { ResilientRpcError } from '../errors/base.js'
import type { WebSocketConstructor } from '../types/webSocket.js'
import type { Clock } from '../util/clock.js'
import type { BackoffOptions } from './policyOptions.js'

/**
 * Checks a freshly opened connection before it counts as open, e.g. its chain id. `request` sends on
 * that connection only; `signal` aborts when the connection attempt times out or the socket dies.
 * Throwing (a `ChainMismatchError`, say) fails the attempt: the socket is closed and retried with back-off.
 */
export type WsHandshake = (
  request: (method: string, params?: readonly unknown[]) => Promise<unknown>,
  context: { signal: AbortSignal; endpoint: string; generation: number },
) => Promise<void>

export type WsKeepaliveOptions = {
  /** Time between two keepalive probes on an open connection (ms). @default 10_000 */
  interval?: number
  /** How long a probe may stay unanswered before the socket counts as dead (ms). @default 5_000 */
  timeout?: number
  /** `ping`: protocol ping/pong (needs `ws`); `request`: a cheap JSON-RPC call; `auto`: ping when the socket can. @default 'auto' */
  mode?: 'auto' | 'ping' | 'request'
  /** Method sent in `request` mode; any answer, even a JSON-RPC error, proves the socket alive. @default 'eth_chainId' */
  method?: string
}

/**
 * Reconnect back-off: wait n of an outage is `round(scale × min(initial·factorⁿ⁻¹, max))`, where one
 * draw per outage gives `scale` in `[1 − jitter, 1]`: the waits of one client keep their exponential
 * shape, and clients dropped together spread out.
 */
export type WsReconnectOptions = BackoffOptions & {
  /** A connection that stayed open this long resets the back-off to its first step (ms). @default 10_000 */
  stableAfter?: number
  /** Reconnect attempts in a row without a stable connection before giving up. @default Infinity */
  maxAttempts?: number
  /** Gives up before `maxAttempts` when it returns true, e.g. on `CHAIN_MISMATCH`. `attempt` counts the attempts made so far. @default never */
  giveUp?: (e: { attempt: number; error: ResilientRpcError }) => boolean
}

export type WsTransportOptions = {
  /** `ws://` or `wss://` URL. Never shown in errors or events (it may carry an API key). */
  url: string
  /** Redacted endpoint id, put on every error and event. */
  endpoint: string
  /** WebSocket sub-protocols. @default none */
  protocols?: string | string[]
  /** Upgrade request headers, e.g. `Authorization` (Node's `ws` only: browsers cannot set them). @default none */
  headers?: Record<string, string>
  /** WebSocket implementation. @default `ws` in Node, `globalThis.WebSocket` in the browser build */
  WebSocket?: WebSocketConstructor
  /** Chain id the default handshake requires (`eth_chainId`); without it any valid chain id passes. Ignored with `handshake`. */
  chainId?: bigint
  /** Check run on every new connection before it counts as open. @default `eth_chainId`, checked against `chainId` */
  handshake?: WsHandshake
  /** Longest a connection attempt may take, socket open plus handshake (ms). @default 10_000 */
  connectTimeout?: number
  /** Dead-socket detection, or `false` to rely on the operating system alone. @default {} (the defaults above) */
  keepalive?: WsKeepaliveOptions | false
  /** Reconnect back-off and give-up policy. @default { initial: 250, max: 30_000, factor: 2, jitter: 0.5, stableAfter: 10_000, maxAttempts: Infinity } */
  reconnect?: WsReconnectOptions
  /**
   * Time, and the timers of each connection (connect deadline, keepalive, `stableAfter`). The waits
   * between reconnect attempts are p-retry's, on the global timers. @default the global timers
   */
  clock?: Clock
  /** Jitter source for the reconnect back-off, in [0, 1), drawn once per outage. @default Math.random */
  random?: () => number
  /** `unref()` the transport's timers (an open socket keeps Node alive anyway). @default true */
  unref?: boolean
  /**
   * Largest incoming message (bytes, after permessage-deflate). A larger one closes the socket (code
   * 1009), fails every request pending on it with `INVALID_RESPONSE` (retryable: the pool tries another
   * endpoint) and the transport reconnects per `reconnect`. With `ws` (Node) the bound is `ws`'s
   * `maxPayload`: the message is cut off while it arrives, never buffered whole. A browser's (or Node's
   * global) `WebSocket` cannot bound frames: it hands over the whole message first, so there the
   * bound only stops it from being parsed and used; memory is not protected.
   * @default 33_554_432 (32 MiB, the pool's `maxResponseBytes`)
   */
  maxResponseBytes?: number
}
