import type { EndpointExclusion } from '../errors/errors.js'
import { pickLeastConnections } from './leastConnections.js'
import { pickWeighted } from './weighted.js'

export type Strategy = 'least-connections' | 'weighted-round-robin'
export type Tier = 'primary' | 'backup'
export type BreakerState = 'closed' | 'open' | 'half-open'

/** Health of an endpoint as the pool sees it. */
export type EndpointStatus = 'up' | 'cooldown' | 'unauthorized'

/** The plain state selection reads. The pool owns and mutates it; selection never does. */
export type SelectableEndpoint = {
  readonly id: string
  readonly tier: Tier
  readonly weight: number
  status: EndpointStatus
  /** Until when (clock ms) a `cooldown` or `unauthorized` status holds. */
  statusUntil: number
  /** Human-readable reason for the status (redacted). */
  statusReason: string | undefined
  breaker: BreakerState
  /** A half-open breaker lets one trial request through at a time. */
  trialInFlight: boolean
  inFlight: number
  effectiveWeight: number
  currentWeight: number
  latencyEwma: number | undefined
  /** Failed attempts since the last success. */
  consecutiveFailures: number
}

export type SelectContext = {
  strategy: Strategy
  /** Least-connections round-robin cursor: the endpoint index ties start from. */
  cursor: number
  /** Endpoints (indexes) this request already tried, oldest first. */
  tried: readonly number[]
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
      /** Earliest clock time at which a time-bound exclusion (cooldown) ends, if any. */
      retryAt: number | undefined
    }

/** Why an endpoint cannot take a request now, or `undefined` if it can. */
export function exclusionReason(e: SelectableEndpoint, now: number): string | undefined {
  if ((e.status === 'cooldown' || e.status === 'unauthorized') && now < e.statusUntil) {
    return `${e.statusReason ?? e.status} (for ${Math.ceil(e.statusUntil - now)} ms more)`
  }
  if (e.breaker === 'open') return 'circuit open'
  if (e.breaker === 'half-open' && e.trialInFlight) return 'circuit half-open, trial request in flight'
  return undefined
}

/**
 * Chooses the endpoint for the next attempt. Pure. Preference order:
 * 1. untried primaries, 2. untried backups, 3. tried endpoints other than the one just tried
 * (primaries first), 4. the one just tried. Within a group the strategy decides.
 */
export function selectEndpoint(endpoints: readonly SelectableEndpoint[], ctx: SelectContext): Selection {
  const last = ctx.tried.length > 0 ? ctx.tried[ctx.tried.length - 1] : undefined
  const groups: number[][] = [[], [], [], [], []]
  const excluded: EndpointExclusion[] = []
  let retryAt: number | undefined
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i]!
    const reason = exclusionReason(e, ctx.now)
    if (reason !== undefined) {
      excluded.push({ endpoint: e.id, reason })
      if ((e.status === 'cooldown' || e.status === 'unauthorized') && ctx.now < e.statusUntil) {
        retryAt = retryAt === undefined ? e.statusUntil : Math.min(retryAt, e.statusUntil)
      }
      continue
    }
    const backup = e.tier === 'backup' ? 1 : 0
    const group = i === last ? 4 : ctx.tried.includes(i) ? 2 + backup : backup
    groups[group]!.push(i)
  }
  const group = groups.find((g) => g.length > 0)
  if (group === undefined) return { kind: 'none', excluded, retryAt }

  if (ctx.strategy === 'weighted-round-robin') {
    const pick = pickWeighted(group.map((i) => endpoints[i]!))!
    return {
      kind: 'picked',
      index: group[pick.index]!,
      cursor: ctx.cursor,
      currentWeights: group.map((i, k) => [i, pick.currentWeights[k]!] as const),
    }
  }
  // The cursor is an endpoint index, so round-robin survives endpoints entering and leaving the group.
  const start = Math.max(0, group.findIndex((i) => i >= ctx.cursor))
  const pick = pickLeastConnections(group.map((i) => endpoints[i]!), start)!
  const index = group[pick.index]!
  return { kind: 'picked', index, cursor: index + 1, currentWeights: [] }
}
