import { describe, expect, it } from 'vitest'
import { BlockTime } from '../../src/health/blockTime.js'

// The chain's pace from the confirmed head's advances: (time, head) observations in, ms per block out.

function estimate(observations: Array<[at: number, head: number]>): number | undefined {
  const b = new BlockTime()
  for (const [at, head] of observations) b.observe(BigInt(head), at)
  return b.value
}

describe('BlockTime', () => {
  it.each([
    { name: 'nothing seen', observations: [], expected: undefined },
    { name: 'one head', observations: [[0, 10]], expected: undefined },
    // Head 10 was produced whenever it was; the pool only saw it at 0: no sample.
    { name: 'one advance: no pace yet', observations: [[0, 10], [5_000, 11]], expected: undefined },
    { name: 'two advances of one block', observations: [[0, 10], [5_000, 11], [17_000, 12]], expected: 12_000 },
    { name: 'an advance of several blocks is divided among them', observations: [[0, 10], [100, 11], [2_100, 19]], expected: 250 },
    { name: 'the same head again is no advance', observations: [[0, 10], [100, 11], [2_000, 11], [12_100, 12]], expected: 12_000 },
    { name: 'the shortest recent advance: it errs short', observations: [[0, 10], [1, 11], [12_001, 12], [22_001, 13], [36_001, 14]], expected: 10_000 },
    // The oldest of nine samples (1 ms per block) is forgotten.
    {
      name: 'only the last eight advances count',
      observations: [[0, 10], [1, 11], [2, 12], ...Array.from({ length: 8 }, (_, i): [number, number] => [2 + (i + 1) * 1_000, 13 + i])],
      expected: 1_000,
    },
  ] as Array<{ name: string; observations: Array<[number, number]>; expected: number | undefined }>)('$name → $expected', ({ observations, expected }) => {
    expect(estimate(observations)).toBe(expected)
  })

  it('a lower head (a reorg) starts over: the next advance is no sample', () => {
    const b = new BlockTime()
    b.observe(10n, 0)
    b.observe(11n, 1_000)
    b.observe(12n, 13_000)
    expect(b.value).toBe(12_000)
    b.observe(11n, 14_000)
    b.observe(12n, 14_500)
    expect(b.value).toBe(12_000)
    b.observe(13n, 26_500)
    expect(b.value).toBe(12_000)
  })
})
