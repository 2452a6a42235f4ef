import { describe, expect, it } from 'vitest'
import { chainInDoubt, decideChainId } from '../../src/health/chainConsensus.js'

describe('decideChainId', () => {
  it.each([
    { name: 'configured, no reports', configured: 1n, reports: [], count: 3, expected: 1n },
    { name: 'configured wins over agreeing endpoints', configured: 1n, reports: [[0, 5n], [1, 5n]], count: 2, expected: 1n },
    { name: 'configured wins in a pool of one', configured: 10n, reports: [[0, 5n]], count: 1, expected: 10n },
    { name: 'one endpoint: its report', configured: undefined, reports: [[0, 137n]], count: 1, expected: 137n },
    { name: 'one endpoint, not yet reported', configured: undefined, reports: [], count: 1, expected: undefined },
    { name: 'empty', configured: undefined, reports: [], count: 3, expected: undefined },
    { name: 'one report of two endpoints', configured: undefined, reports: [[0, 1n]], count: 2, expected: undefined },
    { name: 'two agreeing', configured: undefined, reports: [[0, 1n], [1, 1n]], count: 2, expected: 1n },
    { name: 'two agreeing out of three', configured: undefined, reports: [[2, 1n], [0, 1n]], count: 3, expected: 1n },
    { name: 'disagreeing 1 vs 5', configured: undefined, reports: [[0, 1n], [1, 5n]], count: 3, expected: undefined },
    { name: 'disagreeing, then a second 5', configured: undefined, reports: [[0, 1n], [1, 5n], [2, 5n]], count: 3, expected: 5n },
    { name: 'disagreeing, then a second 1', configured: undefined, reports: [[0, 1n], [1, 5n], [2, 1n]], count: 3, expected: 1n },
    { name: 'the first agreement in report order decides', configured: undefined, reports: [[0, 5n], [1, 1n], [2, 5n], [3, 1n]], count: 4, expected: 5n },
    { name: 'the first agreement decides, other order', configured: undefined, reports: [[0, 1n], [1, 5n], [2, 1n], [3, 5n]], count: 4, expected: 1n },
    { name: 'all different', configured: undefined, reports: [[0, 1n], [1, 5n], [2, 10n]], count: 3, expected: undefined },
  ] as Array<{ name: string; configured: bigint | undefined; reports: Array<[number, bigint]>; count: number; expected: bigint | undefined }>)(
    '$name → $expected',
    ({ configured, reports, count, expected }) => {
      expect(decideChainId(configured, new Map(reports), count)).toBe(expected)
    },
  )

  it.each([
    { name: 'one report, grace over: adopted alone', reports: [[0, 1n]], expected: 1n },
    { name: 'one report, grace not over: waits', reports: [[0, 1n]], graceOver: false, expected: undefined },
    { name: 'a tie after the grace: waits', reports: [[0, 1n], [1, 5n]], expected: undefined },
    { name: 'a leader after the grace: it', reports: [[0, 1n], [1, 5n], [2, 5n]], expected: 5n },
    { name: 'no report after the grace: waits', reports: [], expected: undefined },
  ] as Array<{ name: string; reports: Array<[number, bigint]>; graceOver?: boolean; expected: bigint | undefined }>)('after the grace: $name → $expected', ({ reports, graceOver = true, expected }) => {
    expect(decideChainId(undefined, new Map(reports), 3, graceOver)).toBe(expected)
  })
})

describe('chainInDoubt', () => {
  it.each([
    { name: 'only the adopted chain', reports: [[0, 1n]], expected: undefined },
    { name: 'one rival against one: a tie is no doubt', reports: [[0, 1n], [1, 5n]], expected: undefined },
    { name: 'two rivals against one', reports: [[0, 1n], [1, 5n], [2, 5n]], expected: 5n },
    { name: 'rivals on two chains, neither outnumbering', reports: [[0, 1n], [1, 5n], [2, 10n]], expected: undefined },
    { name: 'no report of the adopted chain left', reports: [[1, 5n]], expected: 5n },
  ] as Array<{ name: string; reports: Array<[number, bigint]>; expected: bigint | undefined }>)('$name → $expected', ({ reports, expected }) => {
    expect(chainInDoubt(1n, new Map(reports))).toBe(expected)
  })
})
