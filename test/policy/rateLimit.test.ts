import { describe, expect, it } from 'vitest'
import { RATE_FLOOR, RateLimiter } from '../../src/policy/rateLimit.js'

const T0 = 1_000_000

/** Takes as many tokens as it can at `now`. */
function drain(limiter: RateLimiter, now: number): number {
  let n = 0
  while (limiter.take(now)) n++
  return n
}

describe('RateLimiter: token bucket', () => {
  it('lets a burst through, then one token per 1/rate', () => {
    const l = new RateLimiter({ perSecond: 10, burst: 3 }, T0)
    expect(drain(l, T0)).toBe(3)
    expect(l.nextTokenAt(T0)).toBe(T0 + 100)
    expect(l.take(T0 + 99)).toBe(false)
    expect(l.take(T0 + 100)).toBe(true)
    expect(l.take(T0 + 100)).toBe(false)
    // A quiet spell refills up to the burst, no more.
    expect(drain(l, T0 + 10_000)).toBe(3)
  })

  it('burst defaults to the rate (at least 1)', () => {
    expect(drain(new RateLimiter({ perSecond: 5 }, T0), T0)).toBe(5)
    expect(drain(new RateLimiter({ perSecond: 0.5 }, T0), T0)).toBe(1)
  })

  it('never exceeds burst + rate × T over any window (property over a request stream)', () => {
    const l = new RateLimiter({ perSecond: 20, burst: 5 }, T0)
    const sent: number[] = []
    // Someone tries every 3 ms for 5 s.
    for (let t = T0; t < T0 + 5_000; t += 3) if (l.take(t)) sent.push(t)
    for (const start of sent) {
      const inWindow = sent.filter((t) => t >= start && t < start + 1_000).length
      expect(inWindow).toBeLessThanOrEqual(5 + 20)
    }
    // And it does use its budget: about 20/s after the first burst.
    expect(sent.length).toBeGreaterThanOrEqual(5 + 20 * 5 - 2)
  })

  it('is unlimited without a configured rate', () => {
    const l = new RateLimiter(undefined, T0)
    for (let i = 0; i < 1000; i++) expect(l.take(T0)).toBe(true)
    expect(l.nextTokenAt(T0)).toBe(T0)
    expect(l.budget(T0)).toBeUndefined()
  })
})

describe('RateLimiter: heartbeat priority', () => {
  it('reserves the next token for a priority taker; requests do not get it', () => {
    const l = new RateLimiter({ perSecond: 10, burst: 1 }, T0)
    expect(l.take(T0)).toBe(true)
    expect(l.take(T0, true)).toBe(false) // the heartbeat reserves the next token
    expect(l.reservedAt(T0)).toBe(T0 + 100)
    expect(l.take(T0 + 100)).toBe(false) // a request does not get the reserved token
    expect(l.nextTokenAt(T0 + 100)).toBeGreaterThan(T0 + 100)
    expect(l.take(T0 + 100, true)).toBe(true) // the heartbeat does
    expect(l.take(T0 + 200)).toBe(true) // and then requests go on as before
  })
})

describe('RateLimiter: learned limit', () => {
  it('a 429 halves the rate and empties the bucket; it recovers additively to the configured rate', () => {
    const l = new RateLimiter({ perSecond: 10, burst: 10 }, T0)
    l.rateLimited(T0)
    expect(l.budget(T0)).toEqual({ perSecond: 5, burst: 5, tokens: 0, configured: 10, lowered: true })
    expect(l.take(T0)).toBe(false)
    expect(l.nextTokenAt(T0)).toBe(T0 + 200)
    // +5 % of 10/s per second: 7.5/s after 5 s, back to 10/s after 10 s.
    expect(l.rate(T0 + 5_000)).toBeCloseTo(7.5)
    expect(l.rate(T0 + 10_000)).toBe(10)
    expect(l.budget(T0 + 20_000)).toMatchObject({ perSecond: 10, lowered: false })
  })

  it('never goes below the floor, and a burst of 429s to requests sent before the lowering halves once', () => {
    const l = new RateLimiter({ perSecond: 3 }, T0)
    l.rateLimited(T0 + 10, T0)
    l.rateLimited(T0 + 20, T0 + 5) // sent before the lowering at T0 + 10: old news
    expect(l.rate(T0 + 20)).toBeCloseTo(1.5 + 3 * 0.05 * 0.01)
    l.rateLimited(T0 + 30, T0 + 25)
    l.rateLimited(T0 + 40, T0 + 35)
    expect(l.rate(T0 + 40)).toBeCloseTo(RATE_FLOOR)
  })

  it('an endpoint without a configured rate learns half the rate it was sent, then becomes unlimited again', () => {
    const l = new RateLimiter(undefined, T0)
    // 40 requests over the last second.
    for (let i = 0; i < 40; i++) l.take(T0 + i * 25)
    l.rateLimited(T0 + 1_000)
    const budget = l.budget(T0 + 1_000)!
    expect(budget.configured).toBeUndefined()
    expect(budget.perSecond).toBeGreaterThanOrEqual(15)
    expect(budget.perSecond).toBeLessThanOrEqual(20)
    expect(l.take(T0 + 1_000)).toBe(false)
    // Recovers to the rate that drew the 429 in 10 s, then the limit is dropped.
    expect(l.budget(T0 + 12_000)).toBeUndefined()
    expect(l.take(T0 + 12_000)).toBe(true)
  })
})
