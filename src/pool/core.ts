import type { BlockTarget } from '../balancer/blockTarget.js'
import type { EligibilityContext } from '../balancer/eligibility.js'
import type { ResolvedPoolOptions } from '../config/poolOptions.js'
import type { ResilientRpcError } from '../errors/base.js'
import { ChainMismatchError } from '../errors/endpoint.js'
import { PoolDestroyedError } from '../errors/request.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import type { HealthMonitor } from '../health/heartbeat.js'
import type { RetryBudget } from '../policy/retryBudget.js'
import type { EndpointView } from '../types/endpoint.js'
import type { PoolEvents } from '../types/events.js'
import type { Clock } from '../util/clock.js'
import type { SafeEmitter } from '../util/emitter.js'
import type { TimerWheel } from '../util/timerWheel.js'

/**
 * What every part of a pool's request path shares, built once by `createPool`. Each part owns its
 * own state (the dispatcher its queue and round-robin counters, the requester its flights and cache);
 * this is only how they reach the endpoints, the clocks and the events.
 */
export type PoolCore = {
  readonly options: ResolvedPoolOptions
  /** The injected clock: time, and the timers of background loops. */
  readonly clock: Clock
  /** The request path's timers (deadlines, attempt timeouts, hedge delays, back-off): one native timer for all. */
  readonly timers: TimerWheel
  readonly endpoints: readonly Endpoint[]
  /** `endpoints[i].view`, for selection. */
  readonly views: readonly EndpointView[]
  readonly events: SafeEmitter<PoolEvents>
  /** Controllers of work in flight (flights, broadcasts, quorum reads, ready()): `destroy()` aborts them. */
  readonly active: Set<AbortController>
  readonly health: HealthMonitor | undefined
  /** Retries and hedges across the pool, as a share of first attempts. */
  readonly retryBudget: RetryBudget | undefined
  /** Aborted (with `POOL_DESTROYED`) by `destroy()`. */
  readonly lifetime: AbortSignal
}

/** The pool's reference head (see docs/architecture.md), `undefined` before heartbeats know it or without them. */
export function referenceHead(core: PoolCore): bigint | undefined {
  return core.health?.referenceHead
}

/**
 * Why the pool serves nothing now, or `undefined`: destroyed, or (without a configured `chainId`)
 * endpoints on another chain outnumber those on the one it adopted — nothing is served from a chain
 * in doubt.
 */
export function notServing(core: PoolCore): ResilientRpcError | undefined {
  if (core.lifetime.aborted) return new PoolDestroyedError()
  const doubt = core.health?.doubt
  if (doubt === undefined) return undefined
  return new ChainMismatchError(doubt.chainId, doubt.other, {
    details: `endpoints on chain ${doubt.other} outnumber those on chain ${doubt.chainId}, which the pool adopted without a configured chainId: set chainId to choose`,
  })
}

/** One endpoint far ahead of the others is distrusted only when a majority (three or more live) outvotes it. */
export function judgeAhead(core: PoolCore): boolean {
  let live = 0
  for (const v of core.views) if (v.health === 'up' && v.head !== undefined) live++
  return live >= 3
}

/** Whether `head` is so far above the reference head that the pool would call its endpoint `ahead`: one endpoint's word a majority outvotes. */
export function distrusted(core: PoolCore, head: bigint | undefined): boolean {
  const reference = referenceHead(core)
  return head !== undefined && reference !== undefined && head > reference + core.options.maxLag && judgeAhead(core)
}

/** What decides an endpoint's eligibility besides the endpoint: the request's block, the reference head, the pool's settings. */
export function eligibilityOf(core: PoolCore, target: BlockTarget | undefined, method?: string): EligibilityContext {
  return { target, method, referenceHead: referenceHead(core), maxLag: core.options.maxLag, requestTrials: !core.health, judgeAhead: judgeAhead(core) }
}
