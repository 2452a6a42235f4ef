import {
  ChainMismatchError,
  InvalidOptionError,
  InvalidResponseError,
  type ResilientRpcError,
} from '../errors/errors.js'
import type { BackoffOptions } from '../policy/backoff.js'
import { systemClock, type Clock } from '../util/clock.js'
import type { Transport } from './http.js'
import { DEFAULT_MAX_RESPONSE_BYTES } from './httpAnswer.js'
import { defaultWebSocket } from './wsSocket.js'
import { show } from '../util/show.js'

// The public shape of the WebSocket transport (src/transport/ws.ts): its options with their
// defaults and validation, events, subscriptions and stats. Kept apart so ws.ts holds only behaviour.

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
  /** Timers and time. @default the global timers */
  clock?: Clock
  /** Jitter source for the back-off, in [0, 1). @default Math.random */
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

/** `idle`: not started or `close()`d; `reconnecting`: waiting out a back-off; `failed`: gave up (`connect()` starts over). */
export type WsState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'failed' | 'destroyed'

/** A subscription came back on a new connection: notifications sent while it was away are lost; backfill them. */
export type WsResubscribed = {
  /** Local id of the subscription (stable across reconnects). */
  id: number
  previousServerId: string
  serverId: string
  /** Generation of the connection it now lives on. */
  generation: number
  /** Time without the subscription, from the end of the previous connection to now (ms). */
  downtime: number
}

/** Events of a WebSocket transport, for observation only. Payloads carry the redacted endpoint id. */
export type WsTransportEvents = {
  /** A connection attempt started; `attempt` is 0 for a first connection, else the reconnect attempt. */
  connecting: [e: { endpoint: string; generation: number; attempt: number }]
  /** The socket is open and the handshake passed: requests flow. */
  open: [e: { endpoint: string; generation: number }]
  /** A connection ended (every `connecting` ends with one). `wasOpen`: it had passed its handshake. */
  closed: [e: { endpoint: string; generation: number; reason: ResilientRpcError; wasOpen: boolean; code?: number }]
  /** The next connection attempt starts in `delay` ms. */
  'reconnect:attempt': [e: { endpoint: string; attempt: number; delay: number }]
  /** The give-up policy stopped reconnecting; requests now fail at once until `connect()`. */
  'reconnect:gaveUp': [e: { endpoint: string; attempts: number; reason: ResilientRpcError }]
  /** A subscription was re-established on a new connection (also told to its `onResubscribed`). */
  'subscription:resubscribed': [e: WsResubscribed & { endpoint: string }]
  /** A subscription could not be re-established and ended (also told to its `onError`). */
  'subscription:error': [e: { endpoint: string; id: number; error: ResilientRpcError }]
  /** A listener or callback threw; the transport carried on. */
  error: [error: unknown]
}

export type WsSubscribeOptions = {
  /** Bounds the whole subscription: aborting it before the first `eth_subscribe` answer rejects, afterwards unsubscribes. */
  signal?: AbortSignal
  /** Called when the subscription is back on a new connection, before its first new notification. */
  onResubscribed?: (e: WsResubscribed) => void
  /** Called when the subscription ended because a new connection refused it. */
  onError?: (error: ResilientRpcError) => void
}

export type WsSubscription = {
  /** Local id, stable across reconnects. */
  readonly id: number
  /** The node's current subscription id; `undefined` while disconnected. */
  readonly serverId: string | undefined
  /** False once unsubscribed, aborted, refused by a new connection, or the transport destroyed. */
  readonly active: boolean
  /** Stops notifications at once; resolves when the node confirmed or the connection ended. Never rejects. Idempotent. */
  unsubscribe(): Promise<void>
}

export type WsTransportStats = Readonly<{
  state: WsState
  /** Generation of the latest connection attempt (0 before the first). */
  generation: number
  /** Requests sent on the current connection and not answered yet (keepalive and handshake included). */
  inFlight: number
  /** Requests and `connect()` calls waiting for a connection to open. */
  waiting: number
  /** Active subscriptions. */
  subscriptions: number
  /** Reconnect attempts since the last stable connection. */
  reconnectAttempt: number
  /** Connections that passed their handshake. */
  opens: number
  /** Answers to ids never sent (or answered twice): ignored. */
  unknownResponses: number
  /** Answers to requests whose caller had already given up: ignored. */
  lateResponses: number
  /** Notifications for subscription ids the connection does not know: ignored. */
  unknownNotifications: number
  /** Frames that are not JSON-RPC (not JSON, not objects, neither answer nor notification): ignored. */
  invalidMessages: number
}>

/** A JSON-RPC over WebSocket transport: multiplexed requests, subscriptions that survive reconnects, keepalive. */
export type WsTransport = Transport & {
  /**
   * `eth_subscribe` with `params` (e.g. `['newHeads']`); `onMessage` gets each notification's `result`.
   * Resolves once the node accepted it; it is then re-established on every new connection.
   * @throws the `eth_subscribe` failure (`RPC_ERROR`, `NETWORK`, …), `signal.reason`, `POOL_DESTROYED`
   */
  subscribe(params: readonly unknown[], onMessage: (result: unknown) => void, options?: WsSubscribeOptions): Promise<WsSubscription>
  /** Starts connecting if idle, failed or closed; resolves at the next `open`. @throws `signal.reason`, `POOL_DESTROYED`, `NETWORK` (gave up or closed) */
  connect(options?: { signal?: AbortSignal }): Promise<void>
  /** Closes the socket and stops reconnecting; waiting and in-flight requests fail with `NETWORK`. Subscriptions stay and come back on the next connection (which any request starts). */
  close(): Promise<void>
  /** Ends everything for good: socket, timers, listeners, subscriptions; pending requests fail with `POOL_DESTROYED`. Idempotent. */
  destroy(): Promise<void>
  stats(): WsTransportStats
  on<E extends keyof WsTransportEvents>(event: E, listener: (...args: WsTransportEvents[E]) => void): WsTransport
  once<E extends keyof WsTransportEvents>(event: E, listener: (...args: WsTransportEvents[E]) => void): WsTransport
  off<E extends keyof WsTransportEvents>(event: E, listener?: (...args: WsTransportEvents[E]) => void): WsTransport
}

const DEFAULT_RECONNECT = { initial: 250, max: 30_000, factor: 2, jitter: 0.5, stableAfter: 10_000, maxAttempts: Infinity }
const DEFAULT_KEEPALIVE = { interval: 10_000, timeout: 5_000, mode: 'auto', method: 'eth_chainId' } as const
const MAX_TIMER = 2_147_483_647
const MAX_PAYLOAD = 2_147_483_647

export type ResolvedOptions = {
  url: string
  endpoint: string
  protocols: string | string[] | undefined
  headers: Record<string, string> | undefined
  WebSocket: WebSocketConstructor
  handshake: WsHandshake
  connectTimeout: number
  keepalive: Required<WsKeepaliveOptions> | false
  reconnect: Required<BackoffOptions> & { stableAfter: number; maxAttempts: number; giveUp: WsReconnectOptions['giveUp'] }
  clock: Clock
  random: () => number
  unref: boolean
  maxResponseBytes: number
}

/** Applies defaults and validates, in one place, at construction. */
export function resolveOptions(options: WsTransportOptions): ResolvedOptions {
  let protocol: string | undefined
  try {
    protocol = new URL(options.url).protocol
  } catch {
    protocol = undefined
  }
  // The URL itself is never quoted: its path or query may hold an API key.
  if (protocol !== 'ws:' && protocol !== 'wss:') throw new InvalidOptionError('url', 'expected a ws:// or wss:// URL')
  if (typeof options.endpoint !== 'string' || options.endpoint === '') throw new InvalidOptionError('endpoint', 'expected a non-empty redacted endpoint id')
  const WebSocket = options.WebSocket ?? defaultWebSocket()
  if (typeof WebSocket !== 'function') throw new InvalidOptionError('WebSocket', 'no WebSocket implementation available: pass one')
  const k = options.keepalive
  const keepalive: ResolvedOptions['keepalive'] =
    k === false
      ? false
      : {
          interval: duration('keepalive.interval', k?.interval, DEFAULT_KEEPALIVE.interval),
          timeout: duration('keepalive.timeout', k?.timeout, DEFAULT_KEEPALIVE.timeout),
          mode: oneOf('keepalive.mode', k?.mode, DEFAULT_KEEPALIVE.mode, ['auto', 'ping', 'request'] as const),
          method: k?.method ?? DEFAULT_KEEPALIVE.method,
        }
  const r = options.reconnect ?? {}
  const maxAttempts = r.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts
  if (maxAttempts !== Infinity && !(Number.isInteger(maxAttempts) && maxAttempts >= 0)) throw new InvalidOptionError('reconnect.maxAttempts', `expected an integer >= 0 or Infinity, got ${show(maxAttempts)}`)
  const jitter = r.jitter ?? DEFAULT_RECONNECT.jitter
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) throw new InvalidOptionError('reconnect.jitter', `expected a number in [0, 1], got ${show(jitter)}`)
  const factor = r.factor ?? DEFAULT_RECONNECT.factor
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) throw new InvalidOptionError('reconnect.factor', `expected a finite number >= 1, got ${show(factor)}`)
  const initial = duration('reconnect.initial', r.initial, DEFAULT_RECONNECT.initial, true)
  const max = duration('reconnect.max', r.max, DEFAULT_RECONNECT.max, true)
  if (max < initial) throw new InvalidOptionError('reconnect.max', `expected >= reconnect.initial (${initial}), got ${max}`)
  for (const name of ['handshake', 'random'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new InvalidOptionError(name, 'expected a function')
  }
  if (r.giveUp !== undefined && typeof r.giveUp !== 'function') throw new InvalidOptionError('reconnect.giveUp', 'expected a function')
  if (keepalive && (typeof keepalive.method !== 'string' || keepalive.method === '')) throw new InvalidOptionError('keepalive.method', 'expected a JSON-RPC method name')
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) throw new InvalidOptionError('maxResponseBytes', `expected an integer >= 1, got ${show(maxResponseBytes)}`)
  const expected = options.chainId
  if (expected !== undefined && typeof expected !== 'bigint') throw new InvalidOptionError('chainId', `expected a bigint, got ${typeof expected}`)
  return {
    url: options.url,
    endpoint: options.endpoint,
    protocols: options.protocols,
    headers: options.headers,
    WebSocket,
    handshake: options.handshake ?? ((request, { endpoint }) => checkChainId(request, expected, endpoint)),
    connectTimeout: duration('connectTimeout', options.connectTimeout, 10_000),
    keepalive,
    reconnect: { initial, max, factor, jitter, stableAfter: duration('reconnect.stableAfter', r.stableAfter, DEFAULT_RECONNECT.stableAfter, true), maxAttempts, giveUp: r.giveUp },
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    unref: options.unref ?? true,
    // ws reads maxPayload as a 32-bit integer (`| 0`): a larger bound would wrap and turn it off. No
    // string that large can exist in JavaScript anyway.
    maxResponseBytes: Math.min(maxResponseBytes, MAX_PAYLOAD),
  }
}

/** The default handshake: `eth_chainId` answers a quantity, equal to `expected` when one is configured. */
async function checkChainId(request: (method: string) => Promise<unknown>, expected: bigint | undefined, endpoint: string): Promise<void> {
  const value = await request('eth_chainId')
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]+$/.test(value)) throw new InvalidResponseError(`eth_chainId returned ${JSON.stringify(value)?.slice(0, 40)}, expected a hex quantity`, { endpoint })
  const actual = BigInt(value)
  if (expected !== undefined && actual !== expected) throw new ChainMismatchError(expected, actual, { endpoint })
}

function duration(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowZero && v === 0) || v > MAX_TIMER) {
    throw new InvalidOptionError(name, `expected a duration in ms ${allowZero ? '>= 0' : '> 0'} and <= ${MAX_TIMER}, got ${show(v)}`)
  }
  return v
}

function oneOf<T extends string>(name: string, value: T | undefined, fallback: T, allowed: readonly T[]): T {
  const v = value ?? fallback
  if (!allowed.includes(v)) throw new InvalidOptionError(name, `expected one of ${allowed.join(', ')}, got ${show(v)}`)
  return v
}
