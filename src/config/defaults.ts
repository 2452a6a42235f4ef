// Every default of the library's options, in one place that imports nothing but option types: the
// JSDoc `@default` next to each option says the same, and docs/architecture.md says why.
import type { LogRateLimit } from './observabilityOptions.js'
import type { BackoffOptions, BatchOptions, BreakerOptions, CacheOptions, HeartbeatOptions, HedgeOptions, RetryBudgetOptions } from './policyOptions.js'
import type { WsKeepaliveOptions } from './webSocketOptions.js'
import type { Strategy } from '../types/endpoint.js'

/** The pool's scalar options. */
export const DEFAULT_POOL = {
  strategy: 'least-connections' as Strategy,
  defaultTimeout: 30_000,
  attemptTimeout: 5_000,
  retries: 3,
  maxLag: 5,
  dedupe: true,
  maxQueue: Infinity,
  rateLimitCooldown: 1_000,
  maxRetryAfter: 60_000,
  unauthorizedCooldown: 60_000,
} as const

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initial: 100, max: 2_000, factor: 2, jitter: 0.5 }

export const DEFAULT_BREAKER: Required<BreakerOptions> = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  rollingWindow: 10_000,
  resetTimeout: 5_000,
}

export const DEFAULT_HEARTBEAT: Required<HeartbeatOptions> = { interval: 2_000, timeout: 1_500, failuresToDown: 2, jitter: 0.2, unref: true, chainCheckInterval: 60_000 }

/**
 * While requests wait for an endpoint, each endpoint that could come back (down, connecting, a half-open
 * breaker) is probed this often, and a WebSocket endpoint between connections tries its next one this
 * often, instead of at the heartbeat interval and the reconnect back-off (ms). A quarter of a second keeps
 * recovery well under a second at four cheap calls a second per endpoint, and only while someone waits.
 */
export const EAGER_PROBE_INTERVAL = 250

/**
 * How long an endpoint that answered "method not found" (or "not supported", "not enabled") is asked
 * for that method only after every other endpoint (ms): long enough that a plan without the method
 * costs one wasted attempt per endpoint every few minutes, short enough to notice it enabled.
 */
export const METHOD_UNSUPPORTED_FOR = 5 * 60_000

export const DEFAULT_HEDGE: Required<HedgeOptions> = { delay: 'adaptive', minDelay: 50, initialDelay: 500, budget: 0.1 }

export const DEFAULT_RETRY_BUDGET: Required<RetryBudgetOptions> = { ratio: 0.2, minPerSecond: 5, window: 10_000 }

export const DEFAULT_CACHE: Required<CacheOptions> = { finalityDepth: 64, maxEntries: 1_000 }

export const DEFAULT_BATCH: Required<BatchOptions> = { maxSize: 10, wait: 0 }

/** Largest response body read by default: far above any sane JSON-RPC answer, far below a memory problem. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024

/** Connections per endpoint by default (`node:http`). */
export const DEFAULT_MAX_SOCKETS = 64

// Idle connections close after this long: below the 5 s keep-alive timeout of Node servers (and most
// proxies' longer ones), so a request rarely goes out on a socket the server is closing.
export const DEFAULT_IDLE_SOCKET_TIMEOUT = 4_000

/** WebSocket reconnect back-off and give-up policy. */
export const DEFAULT_WS_RECONNECT = { initial: 250, max: 30_000, factor: 2, jitter: 0.5, stableAfter: 10_000, maxAttempts: Infinity }

export const DEFAULT_WS_KEEPALIVE: Required<WsKeepaliveOptions> = { interval: 10_000, timeout: 5_000, mode: 'auto', method: 'eth_chainId' }

/** Longest a WebSocket connection attempt may take, socket open plus handshake (ms). */
export const DEFAULT_WS_CONNECT_TIMEOUT = 10_000

/** `pool.subscribe` options. */
export const DEFAULT_SUBSCRIBE = { maxBackfill: 128, pollInterval: 1_000 }

export const DEFAULT_LOG_RATE_LIMIT: Required<LogRateLimit> = { max: 10, interval: 60_000 }
