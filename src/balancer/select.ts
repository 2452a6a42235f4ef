import type { EndpointExclusion } from '../errors/base.js'
import type { BlockTarget } from './blockTarget.js'
import { latencyBucket } from './leastConnections.js'
import { pickWeighted } from './weighted.js'
import type { BreakerState, EndpointHealth, EndpointStatus, Strategy, Tier } from '../types/endpoint.js'

/** The plain state selection reads. The pool owns and mutates it; selection never does. */
export type SelectableEndpoint = {
  readonly id: string
  readonly tier: Tier
  readonly weight: number
  health: EndpointHealth
  /** Why the endpoint is not `up`, when its health says so (redacted). */
  healthReason: string | undefined
  /** A time-bound exclusion: `cooldown` after a rate limit, `unauthorized` after 401/403. */
  restriction: 'cooldown' | 'unauthorized' | undefined
  /** Until when (clock ms) the restriction holds. */
  restrictedUntil: number
  restrictionReason: string | undefined
  /** Latest head block the endpoint reported, if any. */
  head: bigint | undefined
  breaker: BreakerState
  /** A half-open breaker lets one trial request through at a time. */
  trialInFlight: boolean
  inFlight: number
  effectiveWeight: number
  currentWeight: number
  latencyEwma: number | undefined
  /** Failed attempts since the last success. */
  consecutiveFailures: number
  /**
   * Its last attempt lost a hedged race (another endpoint answered first). Not a failure — nothing is
   * blamed — but selection ranks it with the endpoints this request already tried, after every other
   * one, until it answers a request or a heartbeat again.
   */
  lostRace?: boolean
  /** Bulkhead: attempts the endpoint may have in flight at once. @default Infinity */
  maxConcurrency?: number
  /** Rate limit: clock time at which the endpoint has a token for a request (now or earlier: it has one). @default 0 */
  nextTokenAt?: number
}

export type SelectContext = {
  strategy: Strategy
  /** Which block the request reads: decides whether lagging endpoints may serve it. @default latest */
  target?: BlockTarget
  /** The pool's reference head; `undefined` while unknown (then nobody counts as lagging). */
  referenceHead?: bigint | undefined
  /** Blocks an endpoint may be behind (or ahead of) the reference head and still serve latest reads. @default 5n */
  maxLag?: bigint
  /** Whether a half-open breaker's trial is a user request (`true`) or left to the heartbeat (`false`). @default true */
  requestTrials?: boolean
  /**
   * Whether an endpoint far ahead of the reference head is distrusted. Only a majority can outvote
   * one endpoint, so the pool sets this only while three or more endpoints are live. @default true
   */
  judgeAhead?: boolean
  /** Least-connections round-robin cursor: the endpoint index ties start from. */
  cursor: number
  /** Endpoints (indexes) this request already tried, oldest first. */
  tried: readonly number[]
  /** Endpoints (indexes) this request must not use at all (a quorum read asks each endpoint once). */
  avoid?: ReadonlySet<number>
  now: number
}

export type Selection =
  | {
      kind: 'picked'
      /** Index of the chosen endpoint. */
      index: number
      /** Next least-connections cursor. */
      cursor: number
      /** Smooth-WRR counters to store, as `[endpointIndex, currentWeight]`. */
      currentWeights: ReadonlyArray<readonly [number, number]>
    }
  | {
      kind: 'none'
      /** Why each endpoint is out. */
      excluded: EndpointExclusion[]
      /** Earliest clock time at which a time-bound exclusion (cooldown, rate limit) ends, if any. */
      retryAt: number | undefined
      /** Whether some endpoint is out only because of its own limits (concurrency, rate): the request would queue. */
      limited: boolean
    }

/** Where an endpoint's head stands against the reference head: blocks ahead (> 0) or behind (< 0). */
export function headDistance(head: bigint | undefined, referenceHead: bigint | undefined): bigint {
  return head === undefined || referenceHead === undefined ? 0n : head - referenceHead
}

/** The status the pool reports for an endpoint (see `EndpointStatus`). Pure. */
export function endpointStatus(e: SelectableEndpoint, now: number, referenceHead: bigint | undefined, maxLag: bigint, judgeAhead = true): EndpointStatus {
  if (e.health !== 'up') return e.health
  if (e.restriction !== undefined && now < e.restrictedUntil) return e.restriction
  const distance = headDistance(e.head, referenceHead)
  if (distance < -maxLag) return 'lagging'
  if (judgeAhead && distance > maxLag) return 'ahead'
  return 'up'
}

/** Why an endpoint cannot take a request now, or `undefined` if it can. */
export function exclusionReason(e: SelectableEndpoint, now: number, ctx: Omit<SelectContext, 'strategy' | 'cursor' | 'tried' | 'now'> = {}): string | undefined {
  const { target, referenceHead, maxLag = 5n, requestTrials = true, judgeAhead = true } = ctx
  if (e.health !== 'up') return e.healthReason ? `${e.health}: ${e.healthReason}` : e.health
  if (e.restriction !== undefined && now < e.restrictedUntil) {
    return `${e.restrictionReason ?? e.restriction} (for ${Math.ceil(e.restrictedUntil - now)} ms more)`
  }
  if (e.breaker === 'open') return 'circuit open'
  if (e.breaker === 'half-open') {
    if (!requestTrials) return 'circuit half-open, waiting for a heartbeat to prove the endpoint'
    if (e.trialInFlight) return 'circuit half-open, trial request in flight'
  }
  const distance = headDistance(e.head, referenceHead)
  if (target?.kind === 'hash') return undefined
  if (target?.kind === 'number') {
    // A pinned read needs only that the endpoint has reached the block. A block above the reference
    // head is newer than any head the heartbeats have seen yet: any endpoint keeping up may have it.
    if (e.head === undefined || e.head >= target.block) return undefined
    if (referenceHead === undefined || target.block > referenceHead) return distance < -maxLag ? `lagging ${-distance} blocks behind the reference head` : undefined
    return `lagging: at block ${e.head}, request needs ${target.block}`
  }
  if (distance < -maxLag) return `lagging ${-distance} blocks behind the reference head`
  if (judgeAhead && distance > maxLag) return `${distance} blocks ahead of the reference head (unconfirmed)`
  return undefined
}

const NO_WEIGHTS: ReadonlyArray<readonly [number, number]> = []
const NO_GROUP = 5

/**
 * Why an endpoint that could serve is at its own limits now (bulkhead full, no rate-limit token),
 * or `undefined`. Separate from `exclusionReason`: a limit is a moment's wait, not a status.
 */
export function limitReason(e: SelectableEndpoint, now: number): string | undefined {
  if (e.maxConcurrency !== undefined && e.inFlight >= e.maxConcurrency) return `at its concurrency limit (${e.maxConcurrency} in flight)`
  if (e.nextTokenAt !== undefined && e.nextTokenAt > now) return `at its rate limit (next token in ${Math.ceil(e.nextTokenAt - now)} ms)`
  return undefined
}

/**
 * Chooses the endpoint for the next attempt. Pure. Preference order:
 * 1. untried primaries, 2. untried backups, 3. tried endpoints other than the one just tried
 * (primaries first), 4. the one just tried. Within a group the strategy decides.
 * Runs on every attempt, so the common case (least-connections, someone eligible) allocates nothing
 * but the answer: reasons are only spelt out when nobody can take the request.
 */
export function selectEndpoint(endpoints: readonly SelectableEndpoint[], ctx: SelectContext): Selection {
  const last = ctx.tried.length > 0 ? ctx.tried[ctx.tried.length - 1] : undefined
  // 1. The best group any eligible endpoint is in.
  let best = NO_GROUP
  for (let i = 0; i < endpoints.length && best > 0; i++) {
    const group = groupOf(endpoints, i, ctx, last)
    if (group < best) best = group
  }
  if (best === NO_GROUP) return nobody(endpoints, ctx)

  if (ctx.strategy === 'weighted-round-robin') {
    const group: number[] = []
    for (let i = 0; i < endpoints.length; i++) if (groupOf(endpoints, i, ctx, last) === best) group.push(i)
    const pick = pickWeighted(group.map((i) => endpoints[i]!))!
    return {
      kind: 'picked',
      index: group[pick.index]!,
      cursor: ctx.cursor,
      currentWeights: group.map((i, k) => [i, pick.currentWeights[k]!] as const),
    }
  }
  // 2. Least connections within the group, ties round-robin: the group's members are scanned in index
  //    order from the first one at or after the cursor (an endpoint index, so round-robin survives
  //    endpoints entering and leaving the group), wrapping around; the first of equals wins. Same
  //    comparison as pickLeastConnections.
  const n = endpoints.length
  const cursor = ctx.cursor >= 0 && ctx.cursor < n ? ctx.cursor : 0
  let index = -1
  let bestLoad = Infinity
  let bestFailing = Infinity
  let bestLatency = Infinity
  for (let step = 0; step < n; step++) {
    const i = (cursor + step) % n
    if (groupOf(endpoints, i, ctx, last) !== best) continue
    const e = endpoints[i]!
    const load = e.inFlight / e.weight
    const failing = e.consecutiveFailures > 0 || e.lostRace === true ? 1 : 0
    const latency = latencyBucket(e.latencyEwma)
    if (load < bestLoad || (load === bestLoad && (failing < bestFailing || (failing === bestFailing && latency < bestLatency)))) {
      index = i
      bestLoad = load
      bestFailing = failing
      bestLatency = latency
    }
  }
  return { kind: 'picked', index, cursor: index + 1, currentWeights: NO_WEIGHTS }
}

/** The preference group (0 best … 4) of an eligible endpoint, `NO_GROUP` for an excluded one. */
function groupOf(endpoints: readonly SelectableEndpoint[], i: number, ctx: SelectContext, last: number | undefined): number {
  const e = endpoints[i]!
  if (ctx.avoid?.has(i)) return NO_GROUP
  if (exclusionReason(e, ctx.now, ctx) !== undefined) return NO_GROUP
  if (limitReason(e, ctx.now) !== undefined) return NO_GROUP
  if (i === last) return 4
  const backup = e.tier === 'backup' ? 1 : 0
  // One that just lost a hedged race ranks with the tried ones: only after every endpoint not known to be slow.
  return ctx.tried.includes(i) || e.lostRace === true ? 2 + backup : backup
}

/** Nobody can take the request: why each endpoint is out, and when a cool-down ends or a token is due first. */
function nobody(endpoints: readonly SelectableEndpoint[], ctx: SelectContext): Selection {
  const excluded: EndpointExclusion[] = []
  let retryAt: number | undefined
  let limited = false
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i]!
    if (ctx.avoid?.has(i)) {
      excluded.push({ endpoint: e.id, reason: 'already asked by this request' })
      continue
    }
    const reason = exclusionReason(e, ctx.now, ctx)
    if (reason !== undefined) {
      excluded.push({ endpoint: e.id, reason })
      if (e.health === 'up' && e.restriction !== undefined && ctx.now < e.restrictedUntil) {
        retryAt = retryAt === undefined ? e.restrictedUntil : Math.min(retryAt, e.restrictedUntil)
      }
      continue
    }
    const limit = limitReason(e, ctx.now)
    if (limit !== undefined) {
      excluded.push({ endpoint: e.id, reason: limit })
      limited = true
      // A full bulkhead frees up when an attempt ends (the pool wakes its waiters then); a token is due at a known time.
      if (e.nextTokenAt !== undefined && e.nextTokenAt > ctx.now) retryAt = retryAt === undefined ? e.nextTokenAt : Math.min(retryAt, e.nextTokenAt)
    }
  }
  return { kind: 'none', excluded, retryAt, limited }
}
