import type { Strategy, Tier } from '../types/endpoint.js'
import type { Clock } from '../util/clock.js'
import type { Logger, LogRateLimit, TracerLike } from './observabilityOptions.js'
import type { BackoffOptions, BatchOptions, BreakerOptions, CacheOptions, HeartbeatOptions, HedgeOptions, RateLimitOptions, RetryBudgetOptions } from './policyOptions.js'
import type { WsTransportOptions } from './webSocketOptions.js'

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
      /**
       * The methods this endpoint is asked for: only those in `include`, or all but those in
       * `exclude` (one of the two) — a plan without `debug_*`, a node that is not an archive for
       * `eth_getProof`. Heartbeats are not filtered. Without it, a method the endpoint answers
       * "method not found" to is learned for a while. @default every method
       */
      methods?: MethodFilter
    }

/** Which methods an endpoint serves: only `include`, or all but `exclude`. */
export type MethodFilter = { include: readonly string[]; exclude?: undefined } | { exclude: readonly string[]; include?: undefined }

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
  tracer?: TracerLike
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
  /** `methods`, as sets: `serves` true for the ones listed in `include`, false for those in `exclude`. */
  methods: { readonly names: ReadonlySet<string>; readonly serves: boolean } | undefined
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
  tracer: TracerLike | undefined
  logger: Logger | undefined
  logRateLimit: LogRateLimit
  maxResponseBytes: number
  maxSockets: number
}

export type PoolWebSocketOptions = Pick<WsTransportOptions, 'keepalive' | 'reconnect' | 'connectTimeout' | 'protocols' | 'WebSocket'>
