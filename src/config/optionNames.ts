// The option names of every options object the pool takes, for `knownKeys` (./validate.ts): an
// unknown key is refused with the closest of these. Each list is checked complete by the compiler.
import type { LogRateLimit } from './observabilityOptions.js'
import type { BackoffOptions, BatchOptions, BreakerOptions, CacheOptions, HeartbeatOptions, HedgeOptions, RateLimitOptions, RetryBudgetOptions } from './policyOptions.js'
import type { EndpointConfig, PoolOptions, PoolWebSocketOptions } from './poolOptions.js'
import { optionNames } from './validate.js'
import type { WsKeepaliveOptions, WsReconnectOptions, WsTransportOptions } from './webSocketOptions.js'

export const POOL_OPTIONS = optionNames<PoolOptions>({
  endpoints: true,
  strategy: true,
  defaultTimeout: true,
  attemptTimeout: true,
  retries: true,
  backoff: true,
  breaker: true,
  heartbeat: true,
  chainId: true,
  maxLag: true,
  hedge: true,
  dedupe: true,
  cache: true,
  batch: true,
  webSocket: true,
  maxQueue: true,
  retryBudget: true,
  rateLimitCooldown: true,
  maxRetryAfter: true,
  unauthorizedCooldown: true,
  clock: true,
  random: true,
  fetch: true,
  tracer: true,
  logger: true,
  logRateLimit: true,
  maxResponseBytes: true,
  maxSockets: true,
})

export const ENDPOINT_OPTIONS = optionNames<Exclude<EndpointConfig, string>>({ url: true, name: true, weight: true, tier: true, headers: true, maxConcurrency: true, rateLimit: true, methods: true })
export const METHOD_FILTER_OPTIONS = optionNames<{ include: unknown; exclude: unknown }>({ include: true, exclude: true })
export const RATE_LIMIT_OPTIONS = optionNames<RateLimitOptions>({ perSecond: true, burst: true })
export const BACKOFF_OPTIONS = optionNames<BackoffOptions>({ initial: true, max: true, factor: true, jitter: true })
export const BREAKER_OPTIONS = optionNames<BreakerOptions>({ errorThresholdPercentage: true, volumeThreshold: true, rollingWindow: true, resetTimeout: true })
export const HEARTBEAT_OPTIONS = optionNames<HeartbeatOptions>({ interval: true, timeout: true, failuresToDown: true, jitter: true, unref: true, chainCheckInterval: true })
export const HEDGE_OPTIONS = optionNames<HedgeOptions>({ delay: true, minDelay: true, initialDelay: true, budget: true })
export const RETRY_BUDGET_OPTIONS = optionNames<RetryBudgetOptions>({ ratio: true, minPerSecond: true, window: true })
export const CACHE_OPTIONS = optionNames<CacheOptions>({ finalityDepth: true, maxEntries: true })
export const BATCH_OPTIONS = optionNames<BatchOptions>({ maxSize: true, wait: true })
export const LOG_RATE_LIMIT_OPTIONS = optionNames<LogRateLimit>({ max: true, interval: true })
export const POOL_WEB_SOCKET_OPTIONS = optionNames<PoolWebSocketOptions>({ keepalive: true, reconnect: true, connectTimeout: true, protocols: true, WebSocket: true })
export const WS_KEEPALIVE_OPTIONS = optionNames<WsKeepaliveOptions>({ interval: true, timeout: true, mode: true, method: true })
export const WS_RECONNECT_OPTIONS = optionNames<WsReconnectOptions>({ initial: true, max: true, factor: true, jitter: true, stableAfter: true, maxAttempts: true, giveUp: true })
export const WS_TRANSPORT_OPTIONS = optionNames<WsTransportOptions>({
  url: true,
  endpoint: true,
  protocols: true,
  headers: true,
  WebSocket: true,
  chainId: true,
  handshake: true,
  connectTimeout: true,
  keepalive: true,
  reconnect: true,
  clock: true,
  random: true,
  unref: true,
  maxResponseBytes: true,
})
