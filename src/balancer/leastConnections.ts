/** What least-connections needs to know about one eligible endpoint. */
export type LeastConnectionsCandidate = {
  /** Requests in flight on the endpoint now. */
  inFlight: number
  /** Relative capacity (> 0). */
  weight: number
  /** Smoothed latency (ms); `undefined` before the first answer. */
  latencyEwma: number | undefined
  /** Failed attempts since the last success. */
  consecutiveFailures: number
  /** Lost its last hedged race: ranked like a failing endpoint (a hint, not a failure). */
  lostRace?: boolean
  /** When its head was last seen (clock ms): the tie-break of requests whose answer shows it. */
  headAt?: number
}

export type LeastConnectionsPick = {
  /** Index into the candidates of the chosen endpoint. */
  index: number
  /** Round-robin cursor to pass to the next pick. */
  cursor: number
}

// Latencies are compared in quarter-octave buckets (~19% wide): two endpoints 3 ms and 3.2 ms away
// are equally fast, and round-robin should share between them rather than pin to the marginally faster one.
export function latencyBucket(latency: number | undefined): number {
  return latency === undefined ? 0 : Math.round(Math.log2(1 + latency) * 4)
}

/**
 * Picks the endpoint with the fewest in-flight requests relative to its weight. Ties go to one whose
 * last attempt did not fail, then to the lower smoothed latency, then round-robin from `cursor`.
 * `include` limits the pick to some candidates without copying them (selection's preference groups).
 * `byHeadAge`: the answer shows the endpoint's head (`eth_blockNumber`), and the tie goes to the one
 * whose head was seen longest ago instead of the fastest (see `SelectContext.showsHead`).
 * Pure: state in, choice out. Returns `undefined` when no candidate is included.
 */
export function pickLeastConnections(
  candidates: readonly LeastConnectionsCandidate[],
  cursor = 0,
  include?: (index: number) => boolean,
  byHeadAge = false,
): LeastConnectionsPick | undefined {
  const n = candidates.length
  let best = -1
  let bestLoad = Infinity
  let bestFailing = Infinity
  let bestLatency = Infinity
  // Scanning from the cursor makes the first of equal candidates the next one in round-robin order.
  for (let step = 0; step < n; step++) {
    const i = (cursor + step) % n
    if (include !== undefined && !include(i)) continue
    const c = candidates[i]!
    const load = c.inFlight / c.weight
    if (load > bestLoad) continue
    // An endpoint that fails fast (connection refused) has no latency to lose: it must not win on being quick.
    const failing = c.consecutiveFailures > 0 || c.lostRace === true ? 1 : 0
    if (load === bestLoad && failing > bestFailing) continue
    // A logarithm per candidate only where it can decide. Either way lower ranks first.
    const latency = byHeadAge ? (c.headAt ?? 0) : latencyBucket(c.latencyEwma)
    if (load < bestLoad || failing < bestFailing || latency < bestLatency) {
      best = i
      bestLoad = load
      bestFailing = failing
      bestLatency = latency
    }
  }
  return best < 0 ? undefined : { index: best, cursor: (best + 1) % n }
}
