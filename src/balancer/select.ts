import type { EndpointExclusion } from '../errors/base.js'
import type { EndpointView, Strategy } from '../types/endpoint.js'
import { exclusionReason, isAhead, limitReason, saidItLacks, saidNoMethod, type EligibilityContext } from './eligibility.js'
import { pickLeastConnections } from './leastConnections.js'
import { pickWeighted } from './weighted.js'

/** The fields of an endpoint's view that selection reads. */
export type Selectable = Pick<EndpointView, 'id' | 'tier' | 'weight' | 'effectiveWeight' | 'latencyEwma' | 'consecutiveFailures' | 'lostRace' | 'missingFrom' | 'headAt' | 'unsupported'> & Parameters<typeof exclusionReason>[0]

export type SelectContext = EligibilityContext & {
  strategy: Strategy
  /** Least-connections round-robin cursor: the endpoint index ties start from. */
  cursor: number
  /** Smooth weighted round-robin counters, by endpoint index (missing: 0). */
  currentWeights?: readonly number[]
  /** Endpoints (indexes) this request already tried, oldest first. */
  tried: readonly number[]
  /** Endpoints (indexes) this request must not use at all (a quorum read asks each endpoint once). */
  avoid?: ReadonlySet<number>
  /** Endpoints (indexes) that told this request they lack the block it is pinned to. */
  lacking?: ReadonlySet<number>
  /**
   * The answer shows the endpoint's head (`eth_blockNumber`): among equally loaded endpoints, the one
   * whose head was seen longest ago answers, not the fastest. Traffic alone then keeps every endpoint's
   * head fresh, and with it the reference head that two endpoints must vouch for: a node that stopped
   * syncing is seen lagging within a block time or two on a fast chain, not at the next heartbeat.
   */
  showsHead?: boolean
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

const NO_WEIGHTS: ReadonlyArray<readonly [number, number]> = []
const NO_GROUP = 5

/**
 * Chooses the endpoint for the next attempt. Pure. Preference order:
 * 1. untried primaries, 2. untried backups, 3. tried endpoints other than the one just tried
 * (primaries first), 4. the one just tried. Within a group the strategy decides.
 * Runs on every attempt, so the common case (least-connections, someone eligible) allocates nothing
 * but the answer: reasons are only spelt out when nobody can take the request.
 */
export function selectEndpoint(endpoints: readonly Selectable[], ctx: SelectContext): Selection {
  const last = ctx.tried.length > 0 ? ctx.tried[ctx.tried.length - 1] : undefined
  const n = endpoints.length
  // 1. The best group any eligible endpoint is in, and (up to 31 endpoints) which ones are in it, as
  //    bits: each endpoint's eligibility is worked out once per pick.
  let best = NO_GROUP
  let members = 0
  for (let i = 0; i < n; i++) {
    const group = groupOf(endpoints, i, ctx, last)
    if (group < best) {
      best = group
      members = 0
    }
    if (group === best && i < 31) members |= 1 << i
  }
  if (best === NO_GROUP) return nobody(endpoints, ctx)
  const inBest = (i: number) => (i < 31 ? (members & (1 << i)) !== 0 : groupOf(endpoints, i, ctx, last) === best)

  if (ctx.strategy === 'weighted-round-robin') {
    const group: number[] = []
    for (let i = 0; i < n; i++) if (inBest(i)) group.push(i)
    const pick = pickWeighted(group.map((i) => ({ effectiveWeight: endpoints[i]!.effectiveWeight, currentWeight: ctx.currentWeights?.[i] ?? 0 })))!
    return {
      kind: 'picked',
      index: group[pick.index]!,
      cursor: ctx.cursor,
      currentWeights: group.map((i, k) => [i, pick.currentWeights[k]!] as const),
    }
  }
  // 2. Least connections within the group, ties round-robin from the cursor (an endpoint index, so
  //    round-robin survives endpoints entering and leaving the group).
  const pick = pickLeastConnections(endpoints, ctx.cursor >= 0 && ctx.cursor < n ? ctx.cursor : 0, inBest, ctx.showsHead)!
  return { kind: 'picked', index: pick.index, cursor: pick.cursor, currentWeights: NO_WEIGHTS }
}

/** The preference group (0 best … 4) of an eligible endpoint, `NO_GROUP` for an excluded one. */
function groupOf(endpoints: readonly Selectable[], i: number, ctx: SelectContext, last: number | undefined): number {
  const e = endpoints[i]!
  if (ctx.avoid?.has(i) || ctx.lacking?.has(i)) return NO_GROUP
  if (exclusionReason(e, ctx.now, ctx) !== undefined) return NO_GROUP
  if (limitReason(e, ctx.now) !== undefined) return NO_GROUP
  if (i === last) return 4
  const backup = e.tier === 'backup' ? 1 : 0
  // One that just lost a hedged race ranks with the tried ones: only after every endpoint not known to
  // be slow; so does one that said it lacks the block the request reads or the method, and one ahead
  // of the others for a read held to the floor (asked only if nobody else can).
  const lastResort =
    ctx.tried.includes(i) || e.lostRace || saidItLacks(e, ctx.target) || saidNoMethod(e, ctx.method, ctx.now) || (ctx.target?.kind === 'atLeast' && isAhead(e, ctx))
  return lastResort ? 2 + backup : backup
}

/** Nobody can take the request: why each endpoint is out, and when a cool-down ends or a token is due first. */
function nobody(endpoints: readonly Selectable[], ctx: SelectContext): Selection {
  const excluded: EndpointExclusion[] = []
  let retryAt: number | undefined
  let limited = false
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i]!
    if (ctx.avoid?.has(i)) {
      excluded.push({ endpoint: e.id, reason: 'already asked by this request' })
      continue
    }
    if (ctx.lacking?.has(i)) {
      excluded.push({ endpoint: e.id, reason: `lacks block ${ctx.target?.kind === 'number' || ctx.target?.kind === 'atLeast' ? ctx.target.block : '?'} (answered so to this request)` })
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
      if (e.nextTokenAt > ctx.now) retryAt = retryAt === undefined ? e.nextTokenAt : Math.min(retryAt, e.nextTokenAt)
    }
  }
  return { kind: 'none', excluded, retryAt, limited }
}
