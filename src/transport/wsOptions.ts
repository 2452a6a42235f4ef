// The WebSocket transport's surface (its interface, events, states, stats) and its options resolved
// once, at construction; the option types themselves are in src/config/webSocketOptions.ts.
import { InvalidOptionError } from '../errors/invalidOption.js'
import type { ResilientRpcError } from '../errors/base.js'
import type { BackoffOptions } from '../config/policyOptions.js'
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_WS_CONNECT_TIMEOUT, DEFAULT_WS_KEEPALIVE, DEFAULT_WS_RECONNECT } from '../config/defaults.js'
import { WS_KEEPALIVE_OPTIONS, WS_RECONNECT_OPTIONS, WS_TRANSPORT_OPTIONS } from '../config/optionNames.js'
import { backoff, checkedObject, knownKeys, boolean, duration, integer, integerOrInfinity, oneOf, optionalFunction, optionsObject } from '../config/validate.js'
import type { WsHandshake, WsKeepaliveOptions, WsReconnectOptions, WsTransportOptions } from '../config/webSocketOptions.js'
import { defaultWebSocket } from '../platform/node.js'
import type { WebSocketConstructor } from '../types/webSocket.js'
import { systemClock, type Clock } from '../util/clock.js'
import type { Listenable } from '../util/emitter.js'
import type { Transport } from './transport.js'
import { chainIdHandshake } from './wsHandshake.js'

/** `idle`: not started or `close()`d; `reconnecting`: a connection failed or was lost, and the back-off is being waited out; `failed`: gave up (`connect()` starts over). */
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
  /**
   * Reconnect attempt number `attempt` (1, 2, … since the last stable connection) starts in `delay` ms:
   * the wait the back-off has just begun, exact, jitter included, unless `hurry()` cuts it short.
   */
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
// An interface, not a type alias: its `on`/`once`/`off` return the transport itself.
export interface WsTransport extends Transport, Listenable<WsTransportEvents, WsTransport> {
  /**
   * `eth_subscribe` with `params` (e.g. `['newHeads']`); `onMessage` gets each notification's `result`.
   * Resolves once the node accepted it; it is then re-established on every new connection.
   * @throws the `eth_subscribe` failure (`RPC_ERROR`, `NETWORK`, …), `signal.reason`, `POOL_DESTROYED`
   */
  subscribe(params: readonly unknown[], onMessage: (result: unknown) => void, options?: WsSubscribeOptions): Promise<WsSubscription>
  /** Starts connecting if idle, failed or closed; resolves at the next `open`. @throws `signal.reason`, `POOL_DESTROYED`, `NETWORK` (gave up or closed) */
  connect(options?: { signal?: AbortSignal }): Promise<void>
  /**
   * The caller needs this endpoint now (a pool whose requests wait for it): a reconnect back-off in
   * progress ends at once, or 250 ms after the previous attempt began if that is later (at most one
   * attempt per 250 ms however often it is called). Returns whether a connection is open now.
   */
  hurry(): boolean
  /** Closes the socket and stops reconnecting; waiting and in-flight requests fail with `NETWORK`. Subscriptions stay and come back on the next connection (which any request starts). */
  close(): Promise<void>
  /** Ends everything for good: socket, timers, listeners, subscriptions; pending requests fail with `POOL_DESTROYED`. Idempotent. */
  destroy(): Promise<void>
  stats(): WsTransportStats
}

// ws reads maxPayload as a 32-bit integer (`| 0`): a larger bound would wrap and turn it off.
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
  knownKeys('', options, WS_TRANSPORT_OPTIONS)
  const k = options.keepalive === false ? false : checkedObject('keepalive', options.keepalive, WS_KEEPALIVE_OPTIONS, ' or false')
  const keepalive: ResolvedOptions['keepalive'] =
    k === false
      ? false
      : {
          interval: duration('keepalive.interval', k?.interval, DEFAULT_WS_KEEPALIVE.interval),
          timeout: duration('keepalive.timeout', k?.timeout, DEFAULT_WS_KEEPALIVE.timeout),
          mode: oneOf('keepalive.mode', k?.mode, DEFAULT_WS_KEEPALIVE.mode, ['auto', 'ping', 'request'] as const),
          method: k?.method ?? DEFAULT_WS_KEEPALIVE.method,
        }
  const r = optionsObject('reconnect', options.reconnect) ?? {}
  knownKeys('reconnect', r, WS_RECONNECT_OPTIONS)
  const d = DEFAULT_WS_RECONNECT
  const maxAttempts = integerOrInfinity('reconnect.maxAttempts', r.maxAttempts, d.maxAttempts)
  const { initial, max, factor, jitter } = backoff('reconnect', r, d, WS_RECONNECT_OPTIONS, 1)
  if (max < initial) throw new InvalidOptionError('reconnect.max', `expected >= reconnect.initial (${initial}), got ${max}`)
  optionalFunction('handshake', options.handshake)
  optionalFunction('random', options.random)
  optionalFunction('reconnect.giveUp', r.giveUp)
  if (keepalive && (typeof keepalive.method !== 'string' || keepalive.method === '')) throw new InvalidOptionError('keepalive.method', 'expected a JSON-RPC method name')
  const maxResponseBytes = integer('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 1)
  const expected = options.chainId
  if (expected !== undefined && typeof expected !== 'bigint') throw new InvalidOptionError('chainId', `expected a bigint, got ${typeof expected}`)
  return {
    url: options.url,
    endpoint: options.endpoint,
    protocols: options.protocols,
    headers: options.headers,
    WebSocket,
    handshake: options.handshake ?? chainIdHandshake(expected),
    connectTimeout: duration('connectTimeout', options.connectTimeout, DEFAULT_WS_CONNECT_TIMEOUT),
    keepalive,
    reconnect: { initial, max, factor, jitter, stableAfter: duration('reconnect.stableAfter', r.stableAfter, d.stableAfter, true), maxAttempts, giveUp: r.giveUp },
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    unref: boolean('unref', options.unref, true),
    // No string longer than MAX_PAYLOAD can exist in JavaScript anyway.
    maxResponseBytes: Math.min(maxResponseBytes, MAX_PAYLOAD),
  }
}
