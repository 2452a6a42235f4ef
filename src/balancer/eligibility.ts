import type { BlockTarget } from './blockTarget.js'
import type { EndpointStatus, EndpointView } from '../types/endpoint.js'

/** The fields of an endpoint's view that decide whether it may take a request. */
export type Eligible = Pick<
  EndpointView,
  'health' | 'healthReason' | 'restriction' | 'restrictedUntil' | 'restrictionReason' | 'head' | 'breaker' | 'trialInFlight' | 'inFlight' | 'maxConcurrency' | 'nextTokenAt' | 'methods'
>

/** What, besides the endpoint itself, decides whether it may take a request. */
export type EligibilityContext = {
  /** Which block the request reads: decides whether lagging endpoints may serve it. @default latest */
  target?: BlockTarget
  /** The request's method: an endpoint whose `methods` option leaves it out cannot take it. @default any */
  method?: string
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
  /**
   * `[referenceHead - maxLag, referenceHead + maxLag]`, from a caller that asks about many endpoints
   * per reference head: bigint arithmetic allocates, comparisons do not. Derived when absent.
   */
  headBounds?: readonly [low: bigint, high: bigint]
}

/** The heads an endpoint may have and still serve latest reads: `referenceHead ∓ maxLag`, `undefined` while the reference head is unknown. */
export function headBounds(referenceHead: bigint | undefined, maxLag: bigint): readonly [low: bigint, high: bigint] | undefined {
  return referenceHead === undefined ? undefined : [referenceHead - maxLag, referenceHead + maxLag]
}

/** Where an endpoint's head stands against the reference head: blocks ahead (> 0) or behind (< 0). */
export function headDistance(head: bigint | undefined, referenceHead: bigint | undefined): bigint {
  return head === undefined || referenceHead === undefined ? 0n : head - referenceHead
}

/**
 * The status the pool reports for an endpoint (see `EndpointStatus`), most important first:
 * connection health, then a restriction in force, then the distance to the reference head. Pure.
 */
export function endpointStatus(e: Eligible, now: number, referenceHead: bigint | undefined, maxLag: bigint, judgeAhead = true): EndpointStatus {
  if (e.health !== 'up') return e.health
  if (e.restriction !== undefined && now < e.restrictedUntil) return e.restriction
  const distance = headDistance(e.head, referenceHead)
  if (distance < -maxLag) return 'lagging'
  if (judgeAhead && distance > maxLag) return 'ahead'
  return 'up'
}

/** Why an endpoint cannot take a request now, or `undefined` if it can. The same precedence as `endpointStatus`. */
export function exclusionReason(e: Eligible, now: number, ctx: EligibilityContext = {}): string | undefined {
  const { target, referenceHead, maxLag = 5n, requestTrials = true, judgeAhead = true } = ctx
  if (e.health !== 'up') return e.healthReason ? `${e.health}: ${e.healthReason}` : e.health
  if (e.methods !== undefined && ctx.method !== undefined && e.methods.names.has(ctx.method) !== e.methods.serves) return `not asked for ${ctx.method} (its \`methods\` option)`
  if (e.restriction !== undefined && now < e.restrictedUntil) {
    return `${e.restrictionReason ?? e.restriction} (for ${Math.ceil(e.restrictedUntil - now)} ms more)`
  }
  if (e.breaker === 'open') return 'circuit open'
  if (e.breaker === 'half-open') {
    if (!requestTrials) return 'circuit half-open, waiting for a heartbeat to prove the endpoint'
    if (e.trialInFlight) return 'circuit half-open, trial request in flight'
  }
  if (target?.kind === 'hash') return undefined
  const { head } = e
  // Compared with the bounds, not through the distance: this runs for every endpoint on every pick.
  const bounds = head === undefined ? undefined : (ctx.headBounds ?? headBounds(referenceHead, maxLag))
  const lagging = bounds !== undefined && head! < bounds[0]
  const ahead = judgeAhead && bounds !== undefined && head! > bounds[1]
  // A read held to the floor reads the latest state: a head only one endpoint claims does not serve it
  // at `latest`. Pinned to the floor's block it may (the pool pins it there), after every other endpoint:
  // when the others are behind the floor, the endpoint that showed that block is the one that has it.
  if (target?.kind === 'atLeast' && ahead && !target.pinnable) return `${headDistance(head, referenceHead)} blocks ahead of the reference head (unconfirmed)`
  if (target?.kind === 'atLeast' && !target.pinnable) {
    if (head === undefined || head < target.block) {
      return `${head === undefined ? 'head unknown' : `at block ${head}`}, request needs block ${target.block} or newer (the pool's read floor)`
    }
    return undefined
  }
  if (target?.kind === 'number' || target?.kind === 'atLeast') {
    // A pinned read needs only that the endpoint has reached the block. A block above the reference
    // head is newer than any head the heartbeats have seen yet: any endpoint keeping up may have it.
    if (head === undefined || head >= target.block) return undefined
    if (referenceHead === undefined || target.block > referenceHead) return lagging ? `lagging ${-headDistance(head, referenceHead)} blocks behind the reference head` : undefined
    return `lagging: at block ${head}, request needs ${target.block}`
  }
  if (lagging) return `lagging ${-headDistance(head, referenceHead)} blocks behind the reference head`
  if (ahead) return `${headDistance(head, referenceHead)} blocks ahead of the reference head (unconfirmed)`
  return undefined
}

/**
 * Why an endpoint that could serve is at its own limits now (bulkhead full, no rate-limit token),
 * or `undefined`. Separate from `exclusionReason`: a limit is a moment's wait, not a status.
 */
export function limitReason(e: Eligible, now: number): string | undefined {
  if (e.maxConcurrency !== undefined && e.inFlight >= e.maxConcurrency) return `at its concurrency limit (${e.maxConcurrency} in flight)`
  if (e.nextTokenAt > now) return `at its rate limit (next token in ${Math.ceil(e.nextTokenAt - now)} ms)`
  return undefined
}

/** Whether an endpoint's head is so far above the reference head that a majority outvotes it (`ahead`). */
export function isAhead(e: Pick<EndpointView, 'head'>, ctx: EligibilityContext): boolean {
  if (ctx.judgeAhead === false || e.head === undefined) return false
  const bounds = ctx.headBounds ?? headBounds(ctx.referenceHead, ctx.maxLag ?? 5n)
  return bounds !== undefined && e.head > bounds[1]
}

/** Whether the endpoint said, not long ago, that it does not serve `method` (see `EndpointView.unsupported`). */
export function saidNoMethod(e: Pick<EndpointView, 'unsupported'>, method: string | undefined, now: number): boolean {
  // Empty as a rule: one size check per endpoint and pick.
  if (e.unsupported.size === 0 || method === undefined) return false
  const until = e.unsupported.get(method)
  return until !== undefined && now < until
}

/** Whether the endpoint said it lacks a block at or below the one `target` reads (see `EndpointView.missingFrom`). */
export function saidItLacks(e: Pick<EndpointView, 'missingFrom'>, target: BlockTarget | undefined): boolean {
  return e.missingFrom !== undefined && (target?.kind === 'number' || target?.kind === 'atLeast') && target.block >= e.missingFrom
}
