import type { BreakerState, EndpointStatus, Tier } from '../types/endpoint.js'
import type { ErrorCode } from '../errors/base.js'
import type { RateBudget } from '../policy/rateLimit.js'
import type { RetryBudgetStats } from '../policy/retryBudget.js'
import type { EndpointView } from '../types/endpoint.js'
import { referenceHead, type PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'

/** A frozen snapshot of one endpoint. Block numbers are `bigint`. */
export type EndpointStats = Readonly<{
  endpoint: string
  tier: Tier
  status: EndpointStatus
  /** Why the endpoint is not `up` (redacted), if it is not. */
  statusReason: string | undefined
  breaker: BreakerState
  /** Chain id reported at the last handshake. */
  chainId: bigint | undefined
  /** Head block at the last heartbeat. */
  head: bigint | undefined
  /** Blocks behind the pool's reference head (negative: ahead of it). */
  lag: bigint | undefined
  weight: number
  effectiveWeight: number
  inFlight: number
  /** The endpoint's `maxConcurrency`, `undefined` when unlimited. */
  maxConcurrency: number | undefined
  /**
   * The endpoint's request budget now: its configured `rateLimit`, lowered after a 429 and recovering,
   * or learned from 429s when none was configured. `undefined` while unlimited.
   */
  rateLimit: RateBudget | undefined
  /** Smoothed latency (ms) of attempts and pings, `undefined` before the first answer. */
  latencyEwma: number | undefined
  /** 95th percentile attempt latency over the last 100 attempts (ms). */
  latencyP95: number | undefined
  /** Share of the last 100 attempts that failed, 0..1. */
  errorRate: number
  consecutiveFailures: number
  requests: number
  /** Attempts this endpoint answered successfully. */
  served: number
  failures: number
  lastError: Readonly<{ code: ErrorCode; message: string }> | undefined
  /** Methods the endpoint said it does not serve, asked of it only after the others for a while (sorted). */
  unsupportedMethods: readonly string[]
}>

/** A frozen snapshot of the pool. */
export type PoolStats = Readonly<{
  /** The chain the pool serves, once configured or agreed. */
  chainId: bigint | undefined
  /** Highest head that two live endpoints reported (or the only one); see docs/concepts/health.md in the package. */
  referenceHead: bigint | undefined
  endpoints: readonly EndpointStats[]
  /** Retries and hedges over the sliding window against what the retry budget allows; `undefined` with `retryBudget: false`. */
  retryBudget: RetryBudgetStats | undefined
}>

/** The pool and every endpoint now, frozen. */
export function poolStats(core: PoolCore, dispatcher: Dispatcher): PoolStats {
  const now = core.clock.now()
  const reference = referenceHead(core)
  const reasons = dispatcher.exclusions(now)
  return Object.freeze({
    chainId: core.health?.chainId ?? core.options.chainId,
    referenceHead: reference,
    endpoints: Object.freeze(core.endpoints.map((e) => snapshotEndpoint(e.view, reasons[e.index]?.reason, reference, now, e.rateBudget(now)))),
    retryBudget: core.retryBudget?.stats(now),
  })
}

function snapshotEndpoint(r: EndpointView, statusReason: string | undefined, referenceHead: bigint | undefined, now: number, rateLimit?: RateBudget): EndpointStats {
  return Object.freeze({
    endpoint: r.id,
    tier: r.tier,
    status: r.status,
    statusReason,
    breaker: r.breaker,
    chainId: r.chainId,
    head: r.head,
    lag: r.head === undefined || referenceHead === undefined ? undefined : referenceHead - r.head,
    weight: r.weight,
    effectiveWeight: r.effectiveWeight,
    inFlight: r.inFlight,
    maxConcurrency: r.maxConcurrency,
    rateLimit,
    latencyEwma: r.latencyEwma,
    latencyP95: r.samples.p95(),
    errorRate: r.samples.errorRate(),
    consecutiveFailures: r.consecutiveFailures,
    requests: r.requests,
    served: r.successes,
    failures: r.failures,
    lastError: r.lastError ? Object.freeze({ code: r.lastError.code, message: r.lastError.shortMessage }) : undefined,
    unsupportedMethods: Object.freeze([...r.unsupported].filter(([, until]) => now < until).map(([method]) => method).sort()),
  })
}
