import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pickWeighted, type WeightedCandidate } from '../../src/balancer/weighted.js'

const NAMES = 'ABCDEFGHIJ'

/** Runs `n` picks, feeding each pick's counters back as the next state, and returns the names picked. */
function run(weights: readonly number[], n: number): string[] {
  let current = weights.map(() => 0)
  const picks: string[] = []
  for (let k = 0; k < n; k++) {
    const pick = pickWeighted(weights.map((w, i) => ({ effectiveWeight: w, currentWeight: current[i]! })))!
    picks.push(NAMES[pick.index]!)
    current = pick.currentWeights
  }
  return picks
}

describe('pickWeighted', () => {
  it('returns undefined for no candidates', () => {
    expect(pickWeighted([])).toBeUndefined()
  })

  it.each([
    { name: 'A5 B1 C1 (nginx example)', weights: [5, 1, 1], expected: 'A A B A C A A  A A B A C A A' },
    { name: 'A1 B5 C1', weights: [1, 5, 1], expected: 'B B A B C B B  B B A B C B B' },
    { name: 'equal weights are round-robin', weights: [1, 1, 1], expected: 'A B C  A B C  A B C' },
    { name: 'equal larger weights are round-robin', weights: [3, 3], expected: 'A B A B A B' },
    { name: 'A2 B1', weights: [2, 1], expected: 'A B A  A B A' },
    { name: 'A3 B2', weights: [3, 2], expected: 'A B A B A  A B A B A' },
    { name: 'A4 B2 C1', weights: [4, 2, 1], expected: 'A B A C A B A  A B A C A B A' },
    { name: 'one candidate', weights: [7], expected: 'A A A A' },
  ])('$name → $expected', ({ weights, expected }) => {
    const picks = expected.split(/\s+/)
    expect(run(weights, picks.length)).toEqual(picks)
  })

  it('returns the counters after the pick: every one gains its weight, the winner pays back the total', () => {
    expect(pickWeighted([
      { effectiveWeight: 5, currentWeight: 0 },
      { effectiveWeight: 1, currentWeight: 0 },
      { effectiveWeight: 1, currentWeight: 0 },
    ])).toEqual({ index: 0, currentWeights: [-2, 1, 1] })
    expect(pickWeighted([
      { effectiveWeight: 5, currentWeight: -2 },
      { effectiveWeight: 1, currentWeight: 1 },
      { effectiveWeight: 1, currentWeight: 1 },
    ])).toEqual({ index: 0, currentWeights: [-4, 2, 2] })
  })

  it('breaks a tie between counters in favour of the first candidate', () => {
    expect(pickWeighted([
      { effectiveWeight: 1, currentWeight: 2 },
      { effectiveWeight: 1, currentWeight: 2 },
    ])).toEqual({ index: 0, currentWeights: [1, 3] })
  })

  it('keeps the counters summing to zero when they start at zero', () => {
    let current = [0, 0, 0]
    for (let k = 0; k < 20; k++) {
      current = pickWeighted([4, 2, 1].map((w, i) => ({ effectiveWeight: w, currentWeight: current[i]! })))!.currentWeights
      expect(current.reduce((a, b) => a + b, 0)).toBe(0)
    }
  })

  it('does not mutate its input', () => {
    const candidates: WeightedCandidate[] = [
      { effectiveWeight: 5, currentWeight: 0 },
      { effectiveWeight: 1, currentWeight: 3 },
    ]
    const copy = structuredClone(candidates)
    // Frozen in place: a write would throw in strict mode (ES modules are strict).
    const pick = pickWeighted(Object.freeze(candidates.map((c) => Object.freeze(c))))!
    expect(candidates).toEqual(copy)
    expect(pick).toEqual({ index: 0, currentWeights: [-1, 4] })
  })

  it('gives each endpoint its weight share, exactly `weight` times in every window of `total` picks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 6 }), (weights) => {
        const total = weights.reduce((a, b) => a + b, 0)
        const picks = run(weights, 10_000).map((p) => NAMES.indexOf(p))
        // 1. Long-run share within a few percent of weight/total.
        const counts = weights.map(() => 0)
        for (const p of picks) counts[p]!++
        const shares = counts.map((c) => c / picks.length)
        for (const [i, w] of weights.entries()) expect(Math.abs(shares[i]! - w / total)).toBeLessThan(0.02)
        // 2. Smoothness: every sliding window of `total` picks holds each endpoint exactly `weight` times.
        const window = weights.map(() => 0)
        for (let k = 0; k < picks.length; k++) {
          window[picks[k]!]!++
          if (k >= total) window[picks[k - total]!]!--
          // A plain comparison first: calling expect 10_000 times per run is what would make this slow.
          if (k >= total - 1 && window.some((c, i) => c !== weights[i])) expect({ at: k, window }).toEqual({ at: k, window: weights })
        }
      }),
      { numRuns: 50 },
    )
  })
})
