/**
 * How long a pool without a configured `chainId` waits, after the first endpoint reported its chain,
 * for a second opinion before it adopts that chain alone (ms): short enough that a pool whose other
 * endpoints are dead serves at once, long enough that endpoints starting together are heard together.
 */
export const CHAIN_ID_GRACE = 1_000

/**
 * The chain id a pool serves: the configured one; else the first one that two endpoints agree on
 * (and that no other chain matches in number); in a pool of one, the only endpoint's; once the grace
 * after the first report is over, the one most endpoints report, when one chain leads. `undefined`
 * while undecided. Pure.
 * @param reports chain id reported by each endpoint that has answered `eth_chainId`, by endpoint index, in report order
 */
export function decideChainId(configured: bigint | undefined, reports: ReadonlyMap<number, bigint>, endpointCount: number, graceOver = false): bigint | undefined {
  if (configured !== undefined) return configured
  if (endpointCount === 1) return reports.values().next().value
  const seen = new Set<bigint>()
  for (const chainId of reports.values()) {
    if (seen.has(chainId)) return chainId
    seen.add(chainId)
  }
  return graceOver ? leader(reports) : undefined
}

/**
 * The chain of the adopted one's rivals when endpoints reporting it now outnumber those reporting the
 * adopted chain: the pool's choice is in doubt. `undefined` otherwise. Pure.
 */
export function chainInDoubt(adopted: bigint, reports: ReadonlyMap<number, bigint>): bigint | undefined {
  const counts = tally(reports)
  const ours = counts.get(adopted) ?? 0
  for (const [chainId, count] of counts) if (chainId !== adopted && count > ours) return chainId
  return undefined
}

/** The chain id most endpoints report, when one leads; `undefined` on a tie (or without reports). */
function leader(reports: ReadonlyMap<number, bigint>): bigint | undefined {
  let best: bigint | undefined
  let bestCount = 0
  let tie = false
  for (const [chainId, count] of tally(reports)) {
    if (count > bestCount) {
      best = chainId
      bestCount = count
      tie = false
    } else if (count === bestCount) {
      tie = true
    }
  }
  return tie ? undefined : best
}

function tally(reports: ReadonlyMap<number, bigint>): Map<bigint, number> {
  const counts = new Map<bigint, number>()
  for (const chainId of reports.values()) counts.set(chainId, (counts.get(chainId) ?? 0) + 1)
  return counts
}
