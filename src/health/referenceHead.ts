/** One live endpoint's view, as the reference head needs it. */
export type HeadReport = {
  /** Latest head the endpoint reported. */
  head: bigint
  /** Consecutive heartbeats in which it reported a head below the current reference. */
  lowerStreak: number
}

export type ReferenceUpdate = {
  /** The new reference head (`undefined` while no live endpoint has reported one). */
  head: bigint | undefined
  /** Set when the reference went down: every live endpoint agreed on a lower head. */
  reorg?: { from: bigint; to: bigint }
}

/** How many consecutive heartbeats every live endpoint must report a lower head before the reference follows it down. */
export const REORG_CONFIRMATIONS = 2

/**
 * The pool's reference head: the highest head reported by at least two live endpoints (or by the only
 * one), so a single endpoint reporting a bogus height cannot push the others out. It never goes down,
 * except when every live endpoint has reported a lower head for `REORG_CONFIRMATIONS` heartbeats in a
 * row (a reorg or a rollback). Pure.
 */
export function nextReferenceHead(current: bigint | undefined, live: readonly HeadReport[]): ReferenceUpdate {
  if (live.length === 0) return { head: current }
  // Second-highest head (or the only one): the highest that two endpoints have reached.
  let first = -1n
  let second = -1n
  for (const { head } of live) {
    if (head > first) {
      second = first
      first = head
    } else if (head > second) {
      second = head
    }
  }
  const candidate = live.length === 1 ? first : second
  if (current === undefined || candidate >= current) return { head: current === undefined || candidate > current ? candidate : current }
  const everyoneLower = live.every((r) => r.head < current && r.lowerStreak >= REORG_CONFIRMATIONS)
  if (!everyoneLower) return { head: current }
  return { head: candidate, reorg: { from: current, to: candidate } }
}
