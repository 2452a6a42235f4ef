/**
 * The chain id a pool serves: the configured one, else the first one that two endpoints agree on
 * (or the only endpoint's, in a pool of one). `undefined` while undecided. Pure.
 * @param reports chain id reported by each endpoint that has answered `eth_chainId`, by endpoint index
 */
export function decideChainId(configured: bigint | undefined, reports: ReadonlyMap<number, bigint>, endpointCount: number): bigint | undefined {
  if (configured !== undefined) return configured
  if (endpointCount === 1) return reports.values().next().value
  const seen = new Set<bigint>()
  for (const chainId of reports.values()) {
    if (seen.has(chainId)) return chainId
    seen.add(chainId)
  }
  return undefined
}
