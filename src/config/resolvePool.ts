import { InvalidOptionError } from '../errors/invalidOption.js'
import type { Strategy } from '../types/endpoint.js'
import { systemClock, type Clock } from '../util/clock.js'
import { show, showJson } from '../util/show.js'
import { DEFAULT_BACKOFF, DEFAULT_BATCH, DEFAULT_BREAKER, DEFAULT_CACHE, DEFAULT_HEARTBEAT, DEFAULT_HEDGE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_SOCKETS, DEFAULT_POOL, DEFAULT_RETRY_BUDGET } from './defaults.js'
import { validateLogger } from './observabilityOptions.js'
import type { BatchOptions, CacheOptions, HeartbeatOptions, HedgeOptions, RetryBudgetOptions } from './policyOptions.js'
import type { PoolOptions, PoolWebSocketOptions, ResolvedPoolOptions } from './poolOptions.js'
import { resolveEndpoint } from './resolveEndpoint.js'
import { BACKOFF_OPTIONS, BATCH_OPTIONS, BREAKER_OPTIONS, CACHE_OPTIONS, HEARTBEAT_OPTIONS, HEDGE_OPTIONS, LOG_RATE_LIMIT_OPTIONS, POOL_OPTIONS, POOL_WEB_SOCKET_OPTIONS, RETRY_BUDGET_OPTIONS, WS_KEEPALIVE_OPTIONS, WS_RECONNECT_OPTIONS } from './optionNames.js'
import { backoff, bigInteger, checkedObject, knownKeys, boolean, duration, fraction, integer, integerOrInfinity, oneOf, optionalFunction, optionsObject, percentage, positive } from './validate.js'

const STRATEGIES: readonly Strategy[] = ['least-connections', 'weighted-round-robin']

/** Applies defaults and validates; throws `InvalidOptionError` naming the first bad option. */
export function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'expected an object')
  knownKeys('', options, POOL_OPTIONS)
  const { endpoints } = options
  if (!Array.isArray(endpoints) || endpoints.length === 0) throw new InvalidOptionError('endpoints', 'expected a non-empty array of URLs or endpoint objects')
  const strategy = oneOf('strategy', options.strategy, DEFAULT_POOL.strategy, STRATEGIES)
  // Array.from, not map: a hole in a sparse array is an endpoint missing, not one to skip.
  const resolved = Array.from(endpoints, (e, i) => resolveEndpoint(e, i))
  const ids = new Set<string>()
  for (const [i, e] of resolved.entries()) {
    if (ids.has(e.id)) throw new InvalidOptionError(`endpoints[${i}].name`, `duplicate endpoint name ${showJson(e.id)}`)
    ids.add(e.id)
  }
  const breaker = optionsObject('breaker', options.breaker)
  knownKeys('breaker', breaker, BREAKER_OPTIONS)
  const tracer = options.tracer
  if (tracer !== undefined && (typeof tracer !== 'object' || tracer === null || typeof tracer.startSpan !== 'function')) {
    throw new InvalidOptionError('tracer', 'expected an OpenTelemetry Tracer (trace.getTracer(name))')
  }
  return {
    endpoints: resolved,
    strategy,
    defaultTimeout: duration('defaultTimeout', options.defaultTimeout, DEFAULT_POOL.defaultTimeout, false, true),
    attemptTimeout: duration('attemptTimeout', options.attemptTimeout, DEFAULT_POOL.attemptTimeout, false, true),
    retries: integer('retries', options.retries, DEFAULT_POOL.retries),
    backoff: backoff('backoff', options.backoff, DEFAULT_BACKOFF, BACKOFF_OPTIONS),
    breaker: {
      errorThresholdPercentage: percentage('breaker.errorThresholdPercentage', breaker?.errorThresholdPercentage, DEFAULT_BREAKER.errorThresholdPercentage),
      volumeThreshold: integer('breaker.volumeThreshold', breaker?.volumeThreshold, DEFAULT_BREAKER.volumeThreshold),
      rollingWindow: duration('breaker.rollingWindow', breaker?.rollingWindow, DEFAULT_BREAKER.rollingWindow),
      resetTimeout: duration('breaker.resetTimeout', breaker?.resetTimeout, DEFAULT_BREAKER.resetTimeout),
    },
    heartbeat: resolveHeartbeat(options.heartbeat),
    chainId: options.chainId === undefined ? undefined : bigInteger('chainId', options.chainId, false),
    maxLag: bigInteger('maxLag', options.maxLag ?? DEFAULT_POOL.maxLag, true),
    hedge: resolveHedge(options.hedge),
    dedupe: boolean('dedupe', options.dedupe, DEFAULT_POOL.dedupe),
    cache: resolveCache(options.cache),
    batch: resolveBatch(options.batch),
    webSocket: resolveWebSocket(options.webSocket),
    maxQueue: integerOrInfinity('maxQueue', options.maxQueue, DEFAULT_POOL.maxQueue),
    retryBudget: resolveRetryBudget(options.retryBudget),
    rateLimitCooldown: duration('rateLimitCooldown', options.rateLimitCooldown, DEFAULT_POOL.rateLimitCooldown, true),
    maxRetryAfter: duration('maxRetryAfter', options.maxRetryAfter, DEFAULT_POOL.maxRetryAfter, true),
    unauthorizedCooldown: duration('unauthorizedCooldown', options.unauthorizedCooldown, DEFAULT_POOL.unauthorizedCooldown, true),
    clock: resolveClock(options.clock),
    random: optionalFunction('random', options.random) ?? Math.random,
    fetch: optionalFunction('fetch', options.fetch),
    tracer,
    logger: validateLogger(options.logger),
    logRateLimit: checkedObject('logRateLimit', options.logRateLimit, LOG_RATE_LIMIT_OPTIONS) ?? {},
    maxResponseBytes: integer('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 1),
    maxSockets: integer('maxSockets', options.maxSockets, DEFAULT_MAX_SOCKETS, 1),
  }
}

function resolveClock(clock: Clock | undefined): Clock {
  if (clock === undefined) return systemClock
  optionsObject('clock', clock)
  for (const key of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof clock[key] !== 'function') throw new InvalidOptionError(`clock.${key}`, `expected a function, got ${show(clock[key])}`)
  }
  return clock
}

function resolveHeartbeat(options: HeartbeatOptions | false | undefined): Required<HeartbeatOptions> | false {
  if (options === false) return false
  const h = checkedObject('heartbeat', options, HEARTBEAT_OPTIONS, ' or false')
  const d = DEFAULT_HEARTBEAT
  return {
    interval: duration('heartbeat.interval', h?.interval, d.interval),
    timeout: duration('heartbeat.timeout', h?.timeout, d.timeout),
    failuresToDown: integer('heartbeat.failuresToDown', h?.failuresToDown, d.failuresToDown, 1),
    jitter: fraction('heartbeat.jitter', h?.jitter, d.jitter),
    unref: boolean('heartbeat.unref', h?.unref, d.unref),
    chainCheckInterval: duration('heartbeat.chainCheckInterval', h?.chainCheckInterval, d.chainCheckInterval, false, true),
  }
}

function resolveHedge(options: HedgeOptions | false | undefined): Required<HedgeOptions> | false {
  if (options === false) return false
  const h = checkedObject('hedge', options, HEDGE_OPTIONS, ' or false')
  const d = DEFAULT_HEDGE
  const delay = h?.delay ?? d.delay
  return {
    delay: delay === 'adaptive' ? delay : duration('hedge.delay', delay, 0),
    minDelay: duration('hedge.minDelay', h?.minDelay, d.minDelay),
    initialDelay: duration('hedge.initialDelay', h?.initialDelay, d.initialDelay),
    budget: fraction('hedge.budget', h?.budget, d.budget),
  }
}

function resolveRetryBudget(options: RetryBudgetOptions | false | undefined): Required<RetryBudgetOptions> | false {
  if (options === false) return false
  const b = checkedObject('retryBudget', options, RETRY_BUDGET_OPTIONS, ' or false')
  const d = DEFAULT_RETRY_BUDGET
  return {
    ratio: positive('retryBudget.ratio', b?.ratio, d.ratio, 0),
    minPerSecond: positive('retryBudget.minPerSecond', b?.minPerSecond, d.minPerSecond, 0),
    window: duration('retryBudget.window', b?.window, d.window),
  }
}

function resolveBatch(options: BatchOptions | boolean | undefined): Required<BatchOptions> | false {
  if (options === undefined || options === false) return false
  const b = options === true ? undefined : checkedObject('batch', options, BATCH_OPTIONS, ' or a boolean')
  return { maxSize: integer('batch.maxSize', b?.maxSize, DEFAULT_BATCH.maxSize, 1), wait: duration('batch.wait', b?.wait, DEFAULT_BATCH.wait, true) }
}

function resolveCache(options: CacheOptions | false | undefined): Required<CacheOptions> | false {
  if (options === false) return false
  const c = checkedObject('cache', options, CACHE_OPTIONS, ' or false')
  return {
    finalityDepth: integer('cache.finalityDepth', c?.finalityDepth, DEFAULT_CACHE.finalityDepth),
    maxEntries: integer('cache.maxEntries', c?.maxEntries, DEFAULT_CACHE.maxEntries),
  }
}

/** The WebSocket options the pool hands to each WebSocket endpoint's transport (which checks their values). */
function resolveWebSocket(options: PoolWebSocketOptions | undefined): PoolWebSocketOptions {
  const ws = checkedObject('webSocket', options, POOL_WEB_SOCKET_OPTIONS) ?? {}
  if (typeof ws.keepalive === 'object' && ws.keepalive !== null) knownKeys('webSocket.keepalive', ws.keepalive, WS_KEEPALIVE_OPTIONS)
  if (typeof ws.reconnect === 'object' && ws.reconnect !== null) knownKeys('webSocket.reconnect', ws.reconnect, WS_RECONNECT_OPTIONS)
  return ws
}
