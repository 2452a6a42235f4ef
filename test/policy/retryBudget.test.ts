import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_BUDGET } from '../../src/config/defaults.js'
import { RetryBudget } from '../../src/policy/retryBudget.js'

const T0 = 1_000_000

describe('RetryBudget', () => {
  it('allows ratio × first attempts plus the reserve over the window', () => {
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 1, window: 10_000 })
    for (let i = 0; i < 100; i++) b.recordFirst(T0)
    // 0.2 × 100 + 1/s × 10 s = 30.
    let spent = 0
    while (b.trySpend(T0)) spent++
    expect(spent).toBe(30)
    expect(b.stats(T0)).toEqual({ firstAttempts: 100, spent: 30, allowed: 30 })
  })

  it('a quiet pool can still retry: the reserve alone', () => {
    const b = new RetryBudget({ ...DEFAULT_RETRY_BUDGET })
    let spent = 0
    while (b.trySpend(T0)) spent++
    expect(spent).toBe(5 * 10)
  })

  it('with no reserve, a retry needs first attempts to earn it', () => {
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 0, window: 1_000 })
    expect(b.trySpend(T0)).toBe(false)
    for (let i = 0; i < 4; i++) b.recordFirst(T0)
    expect(b.trySpend(T0)).toBe(false) // 0.8 of a retry is none
    b.recordFirst(T0)
    expect(b.trySpend(T0)).toBe(true)
    expect(b.trySpend(T0)).toBe(false)
  })

  it('slides: what happened a window ago no longer counts', () => {
    const b = new RetryBudget({ ratio: 0.5, minPerSecond: 0, window: 1_000 })
    for (let i = 0; i < 10; i++) b.recordFirst(T0)
    for (let i = 0; i < 5; i++) expect(b.trySpend(T0)).toBe(true)
    expect(b.trySpend(T0 + 500)).toBe(false)
    // A window later both the earnings and the spending have aged out.
    expect(b.stats(T0 + 1_000)).toEqual({ firstAttempts: 0, spent: 0, allowed: 0 })
    for (let i = 0; i < 2; i++) b.recordFirst(T0 + 1_000)
    expect(b.trySpend(T0 + 1_050)).toBe(true)
    expect(b.trySpend(T0 + 1_050)).toBe(false)
  })

  it('partly slid: only the slots inside the window count', () => {
    const b = new RetryBudget({ ratio: 1, minPerSecond: 0, window: 1_000 })
    b.recordFirst(T0) // slot at T0
    b.recordFirst(T0 + 600) // slot at T0 + 600
    expect(b.stats(T0 + 700).firstAttempts).toBe(2)
    expect(b.stats(T0 + 1_000).firstAttempts).toBe(1)
    expect(b.stats(T0 + 1_600).firstAttempts).toBe(0)
  })
})
