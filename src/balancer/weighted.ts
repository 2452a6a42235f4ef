/** What smooth weighted round-robin needs to know about one eligible endpoint. */
export type WeightedCandidate = {
  /** Weight after error penalties (> 0). */
  effectiveWeight: number
  /** Running smooth-WRR counter carried between picks. */
  currentWeight: number
}

export type WeightedPick = {
  /** Index into the candidates of the chosen endpoint. */
  index: number
  /** Each candidate's `currentWeight` after this pick, in candidate order. */
  currentWeights: number[]
}

/**
 * Smooth weighted round-robin (as in nginx): every candidate gains its effective weight, the highest
 * counter wins and pays back the total. Weights 5:1:1 give `A A B A C A A`, never a burst of five A's.
 * Pure: returns the next counters instead of mutating them. Returns `undefined` for no candidates.
 */
export function pickWeighted(candidates: readonly WeightedCandidate[]): WeightedPick | undefined {
  if (candidates.length === 0) return undefined
  let total = 0
  let best = 0
  const currentWeights = new Array<number>(candidates.length)
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!
    total += c.effectiveWeight
    currentWeights[i] = c.currentWeight + c.effectiveWeight
    if (currentWeights[i]! > currentWeights[best]!) best = i
  }
  currentWeights[best]! -= total
  return { index: best, currentWeights }
}
