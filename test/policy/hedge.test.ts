import { describe, expect, it } from 'vitest'
import { DEFAULT_HEDGE } from '../../src/config/defaults.js'
import { HedgeBudget, hedgeDelay } from '../../src/policy/hedge.js'

describe('hedgeDelay', () => {
  it.each([
    { name: 'no samples yet', p95: undefined, options: DEFAULT_HEDGE, expected: 500 },
    { name: 'the p95', p95: 120, options: DEFAULT_HEDGE, expected: 120 },
    { name: 'never below the floor', p95: 3, options: DEFAULT_HEDGE, expected: 50 },
    { name: 'a fixed delay ignores the p95', p95: 120, options: { ...DEFAULT_HEDGE, delay: 200 }, expected: 200 },
  ])('$name → $expected ms', ({ p95, options, expected }) => {
    expect(hedgeDelay(p95, options)).toBe(expected)
  })
})

describe('HedgeBudget', () => {
  it('starts with one hedge, then earns a tenth per request, capped at the burst', () => {
    const budget = new HedgeBudget(0.1, 3)
    expect(budget.spend()).toBe(true)
    expect(budget.spend()).toBe(false)
    for (let i = 0; i < 9; i++) budget.earn()
    expect(budget.available()).toBe(false)
    budget.earn()
    expect(budget.available()).toBe(true)
    expect(budget.spend()).toBe(true)
    for (let i = 0; i < 1_000; i++) budget.earn()
    const spent = Array.from({ length: 5 }, () => budget.spend()).filter(Boolean).length
    expect(spent).toBe(3)
  })

  it('over many requests, hedges stay within the ratio', () => {
    const budget = new HedgeBudget(0.1)
    let hedges = 0
    for (let i = 0; i < 10_000; i++) {
      budget.earn()
      if (budget.spend()) hedges++
    }
    expect(hedges).toBeGreaterThanOrEqual(999)
    expect(hedges).toBeLessThanOrEqual(1_001)
  })
})
