import type { Strategy, Tier } from '../balancer/select.js'
import { InvalidOptionError } from '../errors/errors.js'
import { DEFAULT_BACKOFF, type BackoffOptions } from '../policy/backoff.js'
import { DEFAULT_BREAKER, type BreakerOptions } from '../policy/breaker.js'
import { DEFAULT_HEARTBEAT, type HeartbeatOptions } from '../health/heartbeat.js'
import { DEFAULT_HEDGE, type HedgeOptions } from '../policy/hedge.js'
import type { RateLimitOptions } from '../policy/rateLimit.js'
import { DEFAULT_RETRY_BUDGET, type RetryBudgetOptions } from '../policy/retryBudget.js'
import { DEFAULT_CACHE, type CacheOptions } from './cache.js'
import { DEFAULT_BATCH, type BatchOptions } from '../transport/batch.js'
import type { WsTransportOptions } from '../transport/wsOptions.js'
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_SOCKETS } from '../transport/httpAnswer.js'
import { systemClock, type Clock } from '../util/clock.js'
import { endpointId } from './endpointId.js'
import { validateLogger, type Logger, type LogRateLimit } from '../observability/logger.js'
import type { Tracer } from '../observability/tracing.js'
import { show, showJson } from '../util/show.js'

/** One endpoint: a URL, or a URL with settings. */
export type EndpointConfig =
  | string
  | {
      /** `http(s)://` or `ws(s)://` URL. Userinfo (`user:pass@`) is sent as a Basic `Authorization` header. */
      url: string
      /** Name shown in errors, events and `stats()` instead of `scheme://host:port#index`. */
      name?: string
      /** Relative capacity (> 0). @default 1 */
      weight?: number
      /** `backup` endpoints get requests only when no primary can take them. @default 'primary' */
      tier?: Tier
      /** Extra HTTP headers, e.g. `{ Authorization: 'Bearer …' }`. Never shown anywhere. */
      headers?: Record<string, string>
      /**
       * Bulkhead: attempts (hedges included) this endpoint may have in flight at once; beyond it
       * requests go to another endpoint or wait (see `maxQueue`). Heartbeats are not counted: one
       * ping at a time is no load. @default Infinity (unlimited)
       */
      maxConcurrency?: number
      /**
       * Token bucket for the endpoint's quota (a paid plan's requests per second), respected before
       * the provider answers 429. Heartbeats draw from it too. A 429 lowers the rate (halves it,
       * never below 1/s), which then recovers to this one over ~10 s; without it, the endpoint is
       * unlimited until a 429 teaches it a limit. @default undefined (unlimited)
       */
      rateLimit?: RateLimitOptions
    }

export type PoolOptions = {
  /** The endpoints to balance over (at least one). */
  endpoints: readonly EndpointConfig[]
  /** How to pick among eligible endpoints. @default 'least-connections' */
  strategy?: Strategy
  /** Deadline of a request across all its attempts and waits, when the call gives none (ms; `Infinity` for none). @default 30_000 */
  defaultTimeout?: number
  /** Time limit of one attempt against one endpoint (ms). @default 5_000 */
  attemptTimeout?: number
  /** Retries after the first attempt. @default 3 */
  retries?: number
  /** Back-off between retries on endpoints already tried. Failover to an untried endpoint does not wait. */
  backoff?: BackoffOptions
  /** Per-endpoint circuit breaker. */
  breaker?: BreakerOptions
  /**
   * Background health checks: chain id on every new connection, head and latency on an interval.
   * `false` turns them off: endpoints are then trusted from the start and never marked down or lagging.
   */
  heartbeat?: HeartbeatOptions | false
  /** The chain the pool serves. Without it, the first chain id two endpoints agree on (or the only endpoint's). */
  chainId?: number | bigint
  /** Blocks an endpoint may be behind (or ahead of) the reference head and still serve latest-state reads. @default 5 */
  maxLag?: number | bigint
  /**
   * Hedged reads: when the first attempt of an idempotent read has not answered after the hedge delay,
   * the same request goes to another endpoint and the first answer wins (the other is aborted).
   * Writes are never hedged. `false` turns it off.
   */
  hedge?: HedgeOptions | false
  /** Identical in-flight reads (same method and params, same head for `latest`) share one upstream request. @default true */
  dedupe?: boolean
  /**
   * Answers that can no longer change are kept: reads pinned to a final block, lookups by hash whose
   * block is final, and the chain id (answered from the pool's own knowledge). Cleared on a reorg. `false` turns it off.
   */
  cache?: CacheOptions | false
  /**
   * JSON-RPC batching per endpoint: requests to one endpoint within `wait` ms (up to `maxSize`) go in
   * one HTTP request. A batch the endpoint refuses is split and each request sent alone. `true` for
   * the defaults. @default false
   */
  batch?: BatchOptions | boolean
  /**
   * For `ws://` / `wss://` endpoints: keepalive, reconnect back-off and give-up policy, connect
   * timeout (see `createWsTransport`). A WebSocket endpoint is down while it reconnects; with the
   * default it never gives up. @default the WebSocket transport's defaults
   */
  webSocket?: PoolWebSocketOptions
  /**
   * Requests that may wait at once because every endpoint that could serve them is at its
   * `maxConcurrency` or `rateLimit`; one more fails fast with `QUEUE_FULL`. Waiting for an endpoint
   * to come back up is not bounded by this. @default Infinity (unlimited)
   */
  maxQueue?: number
  /**
   * Caps retries and hedges across the pool at a share of first attempts over a sliding window, so a
   * sick fleet is not hammered by retry storms. A retry over budget fails fast with
   * `RETRY_BUDGET_EXHAUSTED`. `false` turns it off.
   */
  retryBudget?: RetryBudgetOptions | false
  /** Cool-down of an endpoint after a rate-limit answer without `Retry-After` (ms). @default 1_000 */
  rateLimitCooldown?: number
  /** Upper bound on a `Retry-After` the pool honours (ms). @default 60_000 */
  maxRetryAfter?: number
  /** How long an endpoint that answered 401/403 stays out before one request tries it again (ms). @default 60_000 */
  unauthorizedCooldown?: number
  /** Time source. @default the global timers and `Date.now` */
  clock?: Clock
  /** Randomness for jitter, in [0, 1). @default Math.random */
  random?: () => number
  /**
   * `fetch` implementation for HTTP endpoints. Without one, Node uses `node:http`/`node:https` with a
   * keep-alive agent per endpoint (a third of undici fetch's CPU per request) and browsers the global
   * `fetch`. @default the platform's transport
   */
  fetch?: typeof fetch
  /**
   * OpenTelemetry tracer (`trace.getTracer('my-service')` from `@opentelemetry/api`, an optional peer
   * dependency): one span per request (`rpc <method>`) with a child span per attempt and per hedge.
   * Without it, no tracing work is done. @default undefined
   */
  tracer?: Tracer
  /**
   * A pino-style logger (`{ debug, info, warn, error }`, each `(obj, msg)`): endpoint status changes,
   * breakers, reconnects, reorgs, readiness and failed requests are logged, endpoints only by their
   * redacted ids. Silent without it. @default undefined
   */
  logger?: Logger
  /** Rate limit of `logger` per message kind (and endpoint). @default { max: 10, interval: 60_000 } */
  logRateLimit?: LogRateLimit
  /**
   * Largest HTTP response body (bytes, decoded) or incoming WebSocket message read; a larger one fails
   * with `INVALID_RESPONSE`, never buffered whole. A too-large WebSocket message also closes its socket
   * (code 1009), which reconnects. Browsers' `WebSocket` cannot bound a message: it arrives whole and
   * is then refused. @default 33_554_432 (32 MiB)
   */
  maxResponseBytes?: number
  /** Most connections open to one HTTP endpoint at once (Node's `node:http` transport; browsers decide themselves). @default 64 */
  maxSockets?: number
}

export type ResolvedEndpoint = {
  id: string
  url: string
  weight: number
  tier: Tier
  headers: Record<string, string>
  maxConcurrency: number | undefined
  rateLimit: Required<RateLimitOptions> | undefined
}

export type ResolvedPoolOptions = {
  endpoints: ResolvedEndpoint[]
  strategy: Strategy
  defaultTimeout: number
  attemptTimeout: number
  retries: number
  backoff: Required<BackoffOptions>
  breaker: Required<BreakerOptions>
  heartbeat: Required<HeartbeatOptions> | false
  chainId: bigint | undefined
  maxLag: bigint
  hedge: Required<HedgeOptions> | false
  dedupe: boolean
  cache: Required<CacheOptions> | false
  batch: Required<BatchOptions> | false
  webSocket: PoolWebSocketOptions
  maxQueue: number
  retryBudget: Required<RetryBudgetOptions> | false
  rateLimitCooldown: number
  maxRetryAfter: number
  unauthorizedCooldown: number
  clock: Clock
  random: () => number
  fetch: typeof fetch | undefined
  tracer: Tracer | undefined
  logger: Logger | undefined
  logRateLimit: LogRateLimit
  maxResponseBytes: number
  maxSockets: number
}

const STRATEGIES: readonly Strategy[] = ['least-connections', 'weighted-round-robin']
// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Applies defaults and validates; throws `InvalidOptionError` naming the first bad option. */
export function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'expected an object')
  const { endpoints } = options
  if (!Array.isArray(endpoints) || endpoints.length === 0) throw new InvalidOptionError('endpoints', 'expected a non-empty array of URLs or endpoint objects')
  const strategy = options.strategy ?? 'least-connections'
  if (!STRATEGIES.includes(strategy)) throw new InvalidOptionError('strategy', `expected one of ${STRATEGIES.map((s) => `'${s}'`).join(', ')}, got ${showJson(strategy)}`)
  // Array.from, not map: a hole in a sparse array is an endpoint missing, not one to skip.
  const resolved = Array.from(endpoints, (e, i) => resolveEndpoint(e, i))
  const ids = new Set<string>()
  for (const [i, e] of resolved.entries()) {
    if (ids.has(e.id)) throw new InvalidOptionError(`endpoints[${i}].name`, `duplicate endpoint name ${showJson(e.id)}`)
    ids.add(e.id)
  }
  const backoff = withDefaults('backoff', DEFAULT_BACKOFF, options.backoff)
  const breaker = withDefaults('breaker', DEFAULT_BREAKER, options.breaker)
  const result: ResolvedPoolOptions = {
    endpoints: resolved,
    strategy,
    defaultTimeout: duration('defaultTimeout', options.defaultTimeout, 30_000, false, true),
    attemptTimeout: duration('attemptTimeout', options.attemptTimeout, 5_000, false, true),
    retries: count('retries', options.retries, 3),
    backoff: {
      initial: duration('backoff.initial', backoff.initial, 0, true),
      max: duration('backoff.max', backoff.max, 0, true),
      factor: positive('backoff.factor', backoff.factor),
      jitter: fraction('backoff.jitter', backoff.jitter),
    },
    breaker: {
      errorThresholdPercentage: percentage('breaker.errorThresholdPercentage', breaker.errorThresholdPercentage),
      volumeThreshold: count('breaker.volumeThreshold', breaker.volumeThreshold, 0),
      rollingWindow: duration('breaker.rollingWindow', breaker.rollingWindow, 0),
      resetTimeout: duration('breaker.resetTimeout', breaker.resetTimeout, 0),
    },
    heartbeat: resolveHeartbeat(options.heartbeat),
    chainId: options.chainId === undefined ? undefined : nonNegativeInteger('chainId', options.chainId, false),
    maxLag: nonNegativeInteger('maxLag', options.maxLag ?? 5, true),
    hedge: resolveHedge(options.hedge),
    dedupe: options.dedupe ?? true,
    cache: resolveCache(options.cache),
    batch: resolveBatch(options.batch),
    webSocket: resolveWebSocket(options.webSocket),
    maxQueue: options.maxQueue === undefined || options.maxQueue === Infinity ? Infinity : count('maxQueue', options.maxQueue, 0),
    retryBudget: resolveRetryBudget(options.retryBudget),
    rateLimitCooldown: duration('rateLimitCooldown', options.rateLimitCooldown, 1_000, true),
    maxRetryAfter: duration('maxRetryAfter', options.maxRetryAfter, 60_000, true),
    unauthorizedCooldown: duration('unauthorizedCooldown', options.unauthorizedCooldown, 60_000, true),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    fetch: options.fetch,
    tracer: options.tracer,
    logger: validateLogger(options.logger),
    logRateLimit: options.logRateLimit ?? {},
    maxResponseBytes: atLeastOne('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES),
    maxSockets: atLeastOne('maxSockets', options.maxSockets, DEFAULT_MAX_SOCKETS),
  }
  if (result.tracer !== undefined && (typeof result.tracer !== 'object' || result.tracer === null || typeof result.tracer.startSpan !== 'function')) {
    throw new InvalidOptionError('tracer', 'expected an OpenTelemetry Tracer (trace.getTracer(name))')
  }
  if (typeof result.logRateLimit !== 'object' || result.logRateLimit === null) throw new InvalidOptionError('logRateLimit', 'expected an object')
  if (typeof result.random !== 'function') throw new InvalidOptionError('random', 'expected a function')
  for (const key of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof result.clock[key] !== 'function') throw new InvalidOptionError(`clock.${key}`, 'expected a function')
  }
  if (result.fetch !== undefined && typeof result.fetch !== 'function') throw new InvalidOptionError('fetch', 'expected a function')
  if (typeof result.dedupe !== 'boolean') throw new InvalidOptionError('dedupe', 'expected a boolean')
  return result
}

function resolveHeartbeat(options: HeartbeatOptions | false | undefined): Required<HeartbeatOptions> | false {
  if (options === false) return false
  const h = withDefaults('heartbeat', DEFAULT_HEARTBEAT, options)
  const resolved = {
    interval: duration('heartbeat.interval', h.interval, 0),
    timeout: duration('heartbeat.timeout', h.timeout, 0),
    failuresToDown: count('heartbeat.failuresToDown', h.failuresToDown, 0),
    jitter: fraction('heartbeat.jitter', h.jitter),
    unref: h.unref,
    chainCheckInterval: duration('heartbeat.chainCheckInterval', h.chainCheckInterval, 0, false, true),
  }
  if (resolved.failuresToDown < 1) throw new InvalidOptionError('heartbeat.failuresToDown', 'expected an integer >= 1')
  if (typeof resolved.unref !== 'boolean') throw new InvalidOptionError('heartbeat.unref', 'expected a boolean')
  return resolved
}

function resolveHedge(options: HedgeOptions | false | undefined): Required<HedgeOptions> | false {
  if (options === false) return false
  const h = withDefaults('hedge', DEFAULT_HEDGE, options)
  if (h.delay !== 'adaptive') duration('hedge.delay', h.delay, 0)
  return {
    delay: h.delay,
    minDelay: duration('hedge.minDelay', h.minDelay, 0),
    initialDelay: duration('hedge.initialDelay', h.initialDelay, 0),
    budget: fraction('hedge.budget', h.budget),
  }
}

function resolveRetryBudget(options: RetryBudgetOptions | false | undefined): Required<RetryBudgetOptions> | false {
  if (options === false) return false
  const b = withDefaults('retryBudget', DEFAULT_RETRY_BUDGET, options)
  const ratio = b.ratio
  if (typeof ratio !== 'number' || !(ratio >= 0) || !Number.isFinite(ratio)) throw new InvalidOptionError('retryBudget.ratio', `expected a finite number >= 0, got ${show(ratio)}`)
  const minPerSecond = b.minPerSecond
  if (typeof minPerSecond !== 'number' || !(minPerSecond >= 0) || !Number.isFinite(minPerSecond)) {
    throw new InvalidOptionError('retryBudget.minPerSecond', `expected a finite number >= 0, got ${show(minPerSecond)}`)
  }
  return { ratio, minPerSecond, window: duration('retryBudget.window', b.window, 0) }
}

function resolveBatch(options: BatchOptions | boolean | undefined): Required<BatchOptions> | false {
  if (options === undefined || options === false) return false
  const b = withDefaults('batch', DEFAULT_BATCH, options === true ? {} : options)
  const maxSize = count('batch.maxSize', b.maxSize, 0)
  if (maxSize < 1) throw new InvalidOptionError('batch.maxSize', 'expected an integer >= 1')
  return { maxSize, wait: duration('batch.wait', b.wait, 0, true) }
}

function resolveCache(options: CacheOptions | false | undefined): Required<CacheOptions> | false {
  if (options === false) return false
  const c = withDefaults('cache', DEFAULT_CACHE, options)
  return { finalityDepth: count('cache.finalityDepth', c.finalityDepth, 0), maxEntries: count('cache.maxEntries', c.maxEntries, 0) }
}

function nonNegativeInteger(name: string, value: number | bigint, allowZero: boolean): bigint {
  const ok = typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))
  if (!ok || BigInt(value) < (allowZero ? 0n : 1n)) throw new InvalidOptionError(name, `expected an integer ${allowZero ? '>= 0' : '> 0'}, got ${show(value)}`)
  return BigInt(value)
}

function resolveEndpoint(config: EndpointConfig, index: number): ResolvedEndpoint {
  const path = `endpoints[${index}]`
  const entry = typeof config === 'string' ? { url: config } : config
  if (typeof entry !== 'object' || entry === null) throw new InvalidOptionError(path, 'expected a URL string or an object with a `url`')
  if (typeof entry.url !== 'string') throw new InvalidOptionError(`${path}.url`, 'expected a string')
  let url: URL
  try {
    url = new URL(entry.url)
  } catch {
    // Never echo the URL: it may hold an API key.
    throw new InvalidOptionError(`${path}.url`, 'not a valid absolute URL')
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new InvalidOptionError(`${path}.url`, `unsupported scheme ${showJson(url.protocol)}; expected http:, https:, ws: or wss:`)
  if (entry.name !== undefined && (typeof entry.name !== 'string' || entry.name.trim() === '')) throw new InvalidOptionError(`${path}.name`, 'expected a non-empty string')
  const weight = entry.weight ?? 1
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) throw new InvalidOptionError(`${path}.weight`, `expected a finite number > 0, got ${show(weight)}`)
  const tier = entry.tier ?? 'primary'
  if (tier !== 'primary' && tier !== 'backup') throw new InvalidOptionError(`${path}.tier`, `expected 'primary' or 'backup', got ${showJson(tier)}`)
  const headers = validateHeaders(`${path}.headers`, entry.headers)
  // fetch refuses URLs with credentials; send them the way browsers would, as Basic auth.
  if (url.username || url.password) {
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
      headers.Authorization = `Basic ${basicCredentials(url, `${path}.url`)}`
    }
    url.username = ''
    url.password = ''
  }
  const maxConcurrency = entry.maxConcurrency
  if (maxConcurrency !== undefined && maxConcurrency !== Infinity && !(Number.isInteger(maxConcurrency) && maxConcurrency >= 1)) {
    throw new InvalidOptionError(`${path}.maxConcurrency`, `expected an integer >= 1 (or Infinity), got ${show(maxConcurrency)}`)
  }
  return {
    id: endpointId(url, index, entry.name),
    url: url.href,
    weight,
    tier,
    headers,
    maxConcurrency: maxConcurrency === Infinity ? undefined : maxConcurrency,
    rateLimit: resolveRateLimit(`${path}.rateLimit`, entry.rateLimit),
  }
}

function resolveRateLimit(path: string, limit: RateLimitOptions | undefined): Required<RateLimitOptions> | undefined {
  if (limit === undefined) return undefined
  if (typeof limit !== 'object' || limit === null || Array.isArray(limit)) throw new InvalidOptionError(path, 'expected an object { perSecond, burst? }')
  const { perSecond } = limit
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) throw new InvalidOptionError(`${path}.perSecond`, `expected a finite number > 0, got ${show(perSecond)}`)
  const burst = limit.burst ?? Math.max(1, perSecond)
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) throw new InvalidOptionError(`${path}.burst`, `expected a finite number >= 1, got ${show(burst)}`)
  return { perSecond, burst }
}

// RFC 7617 with charset UTF-8, so a non-Latin-1 password works instead of making btoa throw.
function basicCredentials(url: URL, path: string): string {
  let decoded: string
  try {
    decoded = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
  } catch {
    throw new InvalidOptionError(path, 'userinfo has a malformed percent-escape')
  }
  let binary = ''
  for (const byte of new TextEncoder().encode(decoded)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

// Seed 002: a mistyped auth header silently became anonymous, rate-limited traffic. Catch what can be caught here.
function validateHeaders(path: string, headers: unknown): Record<string, string> {
  if (headers === undefined) return {}
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new InvalidOptionError(path, 'expected an object of header names to string values')
  const out: Record<string, string> = {}
  for (const [position, [name, value]] of Object.entries(headers).entries()) {
    // Header values are secrets: problems are described, never quoted. A bad name is not quoted
    // either: it is often a pasted "Authorization: Bearer …" line.
    if (!HEADER_NAME.test(name)) throw new InvalidOptionError(`${path}`, `header #${position + 1} has an invalid name (not an RFC 9110 token; did a value end up in the name?)`)
    if (typeof value !== 'string') throw new InvalidOptionError(`${path}.${name}`, `expected a string value, got ${value === null ? 'null' : typeof value}`)
    if (value.trim() === '') throw new InvalidOptionError(`${path}.${name}`, 'value is empty')
    if (/[\r\n\0]/.test(value) || /[^\x20-\x7e\t]/.test(value)) throw new InvalidOptionError(`${path}.${name}`, 'value contains control or non-ASCII characters')
    if (value !== value.trim()) throw new InvalidOptionError(`${path}.${name}`, 'value has leading or trailing whitespace')
    if (name.toLowerCase() === 'authorization' && !/^[A-Za-z][\w-]* +\S/.test(value)) {
      throw new InvalidOptionError(`${path}.${name}`, 'expected "<scheme> <credentials>", e.g. "Bearer <token>"')
    }
    out[name] = value
  }
  return out
}

/** Longest delay timers honour: beyond it Node fires after 1 ms (and warns). */
export const MAX_TIMER = 2_147_483_647

function withDefaults<T extends object>(name: string, defaults: Required<T>, overrides: T | undefined): Required<T> {
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))) {
    throw new InvalidOptionError(name, `expected an object${name === 'heartbeat' ? ' or false' : ''}`)
  }
  const out = { ...defaults }
  // An explicit `undefined` means "not set", exactly as it does at the top level.
  for (const [key, value] of Object.entries(overrides ?? {})) if (value !== undefined) (out as Record<string, unknown>)[key] = value
  return out
}

/** Validates a duration option (ms), applying `fallback` when it is not set. */
export function duration(name: string, value: number | undefined, fallback: number, allowZero = false, allowInfinity = false): number {
  const v = value ?? fallback
  // typeof first: comparing a symbol (or an object with a throwing valueOf) throws a TypeError.
  const tooLong = typeof v === 'number' && v > MAX_TIMER && !(allowInfinity && v === Infinity)
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowZero && v === 0) || tooLong) {
    const range = `${allowZero ? '>= 0' : '> 0'} and <= ${MAX_TIMER}${allowInfinity ? ' (or Infinity)' : ''}`
    throw new InvalidOptionError(name, `expected a duration in ms ${range}, got ${show(v)}`)
  }
  return v
}

function atLeastOne(name: string, value: number | undefined, fallback: number): number {
  const v = count(name, value, fallback)
  if (v < 1) throw new InvalidOptionError(name, 'expected an integer >= 1')
  return v
}

function count(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InvalidOptionError(name, `expected an integer >= 0, got ${show(v)}`)
  return v
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidOptionError(name, `expected a finite number > 0, got ${show(value)}`)
  return value
}

function fraction(name: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new InvalidOptionError(name, `expected a number in [0, 1], got ${show(value)}`)
  return value
}

function percentage(name: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) throw new InvalidOptionError(name, `expected a percentage in [0, 100], got ${show(value)}`)
  return value
}

export type PoolWebSocketOptions = Pick<WsTransportOptions, 'keepalive' | 'reconnect' | 'connectTimeout' | 'protocols' | 'WebSocket'>

// The transport validates these itself when each endpoint builds it (still inside createPool).
function resolveWebSocket(options: PoolWebSocketOptions | undefined): PoolWebSocketOptions {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('webSocket', 'expected an object')
  return options
}
