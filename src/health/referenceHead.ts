/** One live endpoint's view, as the reference head needs it. */
export type HeadReport = {
  /** Latest head the endpoint reported. */
  head: bigint
  /** Consecutive heartbeats in which it reported a head below the current reference. */
  lowerStreak: number
  /** Its own head went back while below the reference: it witnessed a reorg rather than just lagging. */
  fellBack?: boolean
}

/** The pool's reference head and whether two endpoints vouched for it. */
export type ReferenceHead = {
  /** `undefined` while no live endpoint has reported a head. */
  head: bigint | undefined
  /** `false` while the head rests on a single endpoint's word. */
  confirmed: boolean
}

export type ReferenceUpdate = ReferenceHead & {
  /** Set when the reference went down because every live endpoint agreed on a lower head (a reorg or rollback). */
  reorg?: { from: bigint; to: bigint }
  /** Set when an unconfirmed head (one endpoint's word) was replaced by a lower one that two endpoints agree on. */
  corrected?: { from: bigint; to: bigint }
}

/** How many consecutive heartbeats every live endpoint must report a lower head before the reference follows it down. */
export const REORG_CONFIRMATIONS = 2

/**
 * The pool's reference head: the highest head reported by at least two live endpoints (or by the only
 * one), so a single endpoint reporting a bogus height cannot push the others out. A confirmed head
 * never goes down, except when every live endpoint has reported a lower head for `REORG_CONFIRMATIONS`
 * heartbeats in a row and at least one of them saw its own head go back (a reorg or a rollback; without
 * such a witness, endpoints that are merely behind would "agree" on a reorg when the ones at the head die). A head only one endpoint vouched for (the first one up,
 * say) gives way as soon as two endpoints agree on another. Pure.
 */
export function nextReferenceHead(current: ReferenceHead, live: readonly HeadReport[]): ReferenceUpdate {
  if (live.length === 0) return { ...current }
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
  const confirmed = live.length >= 2
  const candidate = confirmed ? second : first
  const { head } = current
  if (head === undefined || candidate > head) return { head: candidate, confirmed }
  if (candidate === head) return { head, confirmed: current.confirmed || confirmed }
  if (confirmed && !current.confirmed) return { head: candidate, confirmed, corrected: { from: head, to: candidate } }
  const everyoneLower = live.every((r) => r.head < head && r.lowerStreak >= REORG_CONFIRMATIONS)
  if (!everyoneLower || !live.some((r) => r.fellBack === true)) return { ...current }
  return { head: candidate, confirmed, reorg: { from: head, to: candidate } }
}
