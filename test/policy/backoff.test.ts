import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../src/policy/backoff.js'
import { DEFAULT_BACKOFF } from '../../src/config/defaults.js'
import type { BackoffOptions } from '../../src/config/policyOptions.js'

const ATTEMPTS = [0, 1, 2, 3, 4, 5, 6]
const ALMOST_ONE = 1 - Number.EPSILON

describe('backoffDelay', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initial: 100, factor: 2, max: 2_000, jitter: 0.5 })
  })

  it.each([
    { name: 'random 0: no jitter taken off', random: 0, expected: [100, 200, 400, 800, 1600, 2000, 2000] },
    { name: 'random 0.5: a quarter taken off', random: 0.5, expected: [75, 150, 300, 600, 1200, 1500, 1500] },
    { name: 'random 1-ε: half taken off', random: ALMOST_ONE, expected: [50, 100, 200, 400, 800, 1000, 1000] },
  ])('defaults, $name → $expected', ({ random, expected }) => {
    expect(ATTEMPTS.map((a) => backoffDelay(a, DEFAULT_BACKOFF, () => random))).toEqual(expected)
  })

  it('uses the defaults when no options are given', () => {
    expect(ATTEMPTS.map((a) => backoffDelay(a, undefined, () => 0))).toEqual([100, 200, 400, 800, 1600, 2000, 2000])
  })

  it.each([
    { name: 'jitter 0 is exact whatever random says', options: { initial: 100, factor: 2, max: 2000, jitter: 0 }, expected: [100, 200, 400, 800, 1600, 2000, 2000] },
    { name: 'factor 3, max 5000', options: { initial: 50, factor: 3, max: 5000, jitter: 0 }, expected: [50, 150, 450, 1350, 4050, 5000, 5000] },
    { name: 'factor 1 is constant', options: { initial: 250, factor: 1, max: 2000, jitter: 0 }, expected: [250, 250, 250, 250, 250, 250, 250] },
    { name: 'initial above max is capped from the start', options: { initial: 3000, factor: 2, max: 1000, jitter: 0 }, expected: [1000, 1000, 1000, 1000, 1000, 1000, 1000] },
    { name: 'initial 0 never waits', options: { initial: 0, factor: 2, max: 1000, jitter: 0 }, expected: [0, 0, 0, 0, 0, 0, 0] },
    { name: 'fractional delays are rounded', options: { initial: 10.4, factor: 1.5, max: 1000, jitter: 0 }, expected: [10, 16, 23, 35, 53, 79, 118] },
  ] as Array<{ name: string; options: Required<BackoffOptions>; expected: number[] }>)('$name → $expected', ({ options, expected }) => {
    for (const random of [0, 0.5, ALMOST_ONE]) {
      expect(ATTEMPTS.map((a) => backoffDelay(a, options, () => random))).toEqual(expected)
    }
  })

  it('jitter 1 can take the whole delay off', () => {
    const options = { ...DEFAULT_BACKOFF, jitter: 1 }
    expect(ATTEMPTS.map((a) => backoffDelay(a, options, () => ALMOST_ONE))).toEqual([0, 0, 0, 0, 0, 0, 0])
    expect(ATTEMPTS.map((a) => backoffDelay(a, options, () => 0.5))).toEqual([50, 100, 200, 400, 800, 1000, 1000])
  })

  it('does not overflow for a huge attempt number', () => {
    expect(backoffDelay(10_000, DEFAULT_BACKOFF, () => 0)).toBe(2000)
  })

  it('calls random once per delay', () => {
    let calls = 0
    backoffDelay(3, DEFAULT_BACKOFF, () => (calls++, 0.3))
    expect(calls).toBe(1)
  })

  it('stays within [ceiling·(1−jitter), ceiling] and never decreases with the attempt at fixed random', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.record({
          initial: fc.integer({ min: 0, max: 10_000 }),
          factor: fc.double({ min: 1, max: 4, noNaN: true }),
          max: fc.integer({ min: 0, max: 60_000 }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, options, r) => {
          const ceiling = Math.min(options.max, options.initial * options.factor ** attempt)
          const delay = backoffDelay(attempt, options, () => r)
          // ±0.5 for the rounding to whole milliseconds.
          expect(delay).toBeGreaterThanOrEqual(ceiling * (1 - options.jitter) - 0.5)
          expect(delay).toBeLessThanOrEqual(ceiling + 0.5)
          expect(Number.isInteger(delay)).toBe(true)
          expect(backoffDelay(attempt + 1, options, () => r)).toBeGreaterThanOrEqual(delay)
        },
      ),
    )
  })
})
