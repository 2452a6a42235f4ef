import { describe, expect, it, vi } from 'vitest'
import { createPool, isResilientRpcError, type EndpointConfig, type PoolOptions } from '../../src/index.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// Choosing, reserving and waiting for an endpoint (src/pool/dispatch.ts), through the public API with a
// scripted fetch and fake timers: every wait is driven by the test. Hedging and de-duplication change
// how many upstream requests a call makes: off here.

describe('balancing and failover', () => {
  const { fake, makePool, track } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })

  it('fails over to an untried endpoint at once, without back-off', async () => {
    fake.set('a', { kind: 'network' })
    fake.set('b', { kind: 'ok', result: '0x2a' })
    const p = makePool({}, ['http://a', 'http://b'])
    await expect(p.request('eth_blockNumber')).resolves.toBe('0x2a')
    expect(fake.calls.map((c) => c.host)).toEqual(['a', 'b'])
  })

  it('uses backup endpoints only when no primary can take the request', async () => {
    fake.set('a', { kind: 'ok' })
    fake.set('b', { kind: 'ok' })
    const p = createPool({ endpoints: ['http://a', { url: 'http://b', tier: 'backup' }], fetch: fake.fetch, heartbeat: false, hedge: false, dedupe: false })
    track(p)
    for (let i = 0; i < 5; i++) await p.request('eth_blockNumber')
    expect(fake.callsTo('b')).toHaveLength(0)
    fake.set('a', { kind: 'network' })
    await p.request('eth_blockNumber')
    expect(fake.callsTo('b')).toHaveLength(1)
  })

  it('spreads concurrent requests by least connections', async () => {
    for (const h of ['a', 'b', 'c']) fake.set(h, { kind: 'ok', delay: 10 })
    const p = makePool()
    const all = Promise.all(Array.from({ length: 9 }, () => p.request('eth_blockNumber')))
    await vi.advanceTimersByTimeAsync(10)
    await all
    expect(['a', 'b', 'c'].map((h) => fake.callsTo(h).length)).toEqual([3, 3, 3])
  })

  it('honours weights with weighted round-robin', async () => {
    for (const h of ['a', 'b']) fake.set(h, { kind: 'ok' })
    const p = createPool({ endpoints: [{ url: 'http://a', weight: 3 }, 'http://b'], strategy: 'weighted-round-robin', fetch: fake.fetch, heartbeat: false, hedge: false, dedupe: false })
    track(p)
    for (let i = 0; i < 8; i++) await p.request('eth_blockNumber')
    expect(fake.calls.map((c) => c.host).join('')).toBe('aabaaaba')
  })
})

describe('per-endpoint limits', () => {
  // The pool's per-endpoint limits (bulkhead, rate limit, learned limit, bounded queue) and its retry
  // budget, with a scripted fetch and fake timers.

  const fakePool = useFakePool({ random: () => 0, heartbeat: false, hedge: false, dedupe: false })
  const { fake } = fakePool
  const makePool = (endpoints: EndpointConfig[], options: Partial<PoolOptions> = {}) => fakePool.makePool(options, endpoints)

  /** Tracks how many fetches each host has open at once, and the most it ever had. */
  function trackConcurrency() {
    const open = new Map<string, number>()
    const peak = new Map<string, number>()
    const inner = fake.fetch
    const tracked = (async (input: string | URL | Request, init?: RequestInit) => {
      const host = new URL(String(input)).host
      open.set(host, (open.get(host) ?? 0) + 1)
      peak.set(host, Math.max(peak.get(host) ?? 0, open.get(host)!))
      try {
        return await inner(input, init)
      } finally {
        open.set(host, open.get(host)! - 1)
      }
    }) as typeof fetch
    return { fetch: tracked, peak }
  }

  describe('maxConcurrency (bulkhead)', () => {
    it('never has more than maxConcurrency attempts in flight per endpoint; the rest wait their turn', async () => {
      for (const h of ['a', 'b']) fake.set(h, { kind: 'ok', delay: 100 })
      const tracker = trackConcurrency()
      const p = makePool([{ url: 'http://a', maxConcurrency: 1 }, { url: 'http://b', maxConcurrency: 2 }], { fetch: tracker.fetch })
      const all = Promise.all(Array.from({ length: 9 }, () => p.request('eth_blockNumber')))
      await vi.advanceTimersByTimeAsync(0)
      expect(p.stats().endpoints.map((e) => e.inFlight)).toEqual([1, 2])
      await vi.advanceTimersByTimeAsync(300)
      await expect(all).resolves.toEqual(Array(9).fill('0x1'))
      expect(Object.fromEntries(tracker.peak)).toEqual({ a: 1, b: 2 })
      expect(fake.calls).toHaveLength(9)
    })

    it('a full queue fails fast with QUEUE_FULL, naming the limits', async () => {
      fake.set('a', { kind: 'ok', delay: 100 })
      const p = makePool([{ url: 'http://a', maxConcurrency: 1 }], { maxQueue: 1 })
      const first = start(p.request('eth_blockNumber'))
      const second = start(p.request('eth_blockNumber'))
      await vi.advanceTimersByTimeAsync(0)
      const error = await p.request('eth_blockNumber').catch((e: unknown) => e)
      expect(isResilientRpcError(error, 'QUEUE_FULL')).toBe(true)
      expect((error as Error).message).toMatchInlineSnapshot(`
        "Queue full: 1 requests already wait for an endpoint under its limits
        Details: http://a:80#0: at its concurrency limit (1 in flight)"
      `)
      await vi.advanceTimersByTimeAsync(200)
      await Promise.all([first.done, second.done])
      expect([first.outcome.value, second.outcome.value]).toEqual(['0x1', '0x1'])
      expect(fake.calls).toHaveLength(2)
    })

    it('waiting for a down endpoint is not queueing: maxQueue 0 does not fail it', async () => {
      fake.set('a', { kind: 'status', status: 429, headers: { 'retry-after': '1' } })
      const p = makePool(['http://a'], { maxQueue: 0, retries: 1 })
      const { outcome, done } = start(p.request('eth_blockNumber', [], { timeout: 5_000 }))
      await vi.advanceTimersByTimeAsync(500)
      fake.set('a', { kind: 'ok', result: '0x7' })
      await vi.advanceTimersByTimeAsync(1_000)
      await done
      expect(outcome.value).toBe('0x7')
    })
  })

  describe('rateLimit (token bucket)', () => {
    it('sends a burst, then one request per token, waking when the token is due', async () => {
      fake.set('a', { kind: 'ok' })
      const sentAt: number[] = []
      fake.set('a', () => (sentAt.push(Date.now()), { kind: 'ok' }))
      const t0 = Date.now()
      const p = makePool([{ url: 'http://a', rateLimit: { perSecond: 10, burst: 2 } }])
      const all = Promise.all(Array.from({ length: 6 }, () => p.request('eth_blockNumber')))
      await vi.advanceTimersByTimeAsync(0)
      expect(sentAt).toHaveLength(2)
      expect(p.stats().endpoints[0]!.rateLimit).toEqual({ perSecond: 10, burst: 2, tokens: 0, configured: 10, lowered: false })
      await vi.advanceTimersByTimeAsync(400)
      await all
      expect(sentAt.map((t) => t - t0)).toEqual([0, 0, 100, 200, 300, 400])
    })

    it('prefers an endpoint with a token over waiting for one', async () => {
      for (const h of ['a', 'b']) fake.set(h, { kind: 'ok' })
      const p = makePool([{ url: 'http://a', rateLimit: { perSecond: 1, burst: 1 } }, 'http://b'])
      for (let i = 0; i < 4; i++) await p.request('eth_blockNumber')
      expect(fake.callsTo('a')).toHaveLength(1)
      expect(fake.callsTo('b')).toHaveLength(3)
    })

    it('a 429 halves the rate (shown in stats) and it recovers to the configured rate', async () => {
      fake.set('a', { kind: 'status', status: 429 })
      fake.set('b', { kind: 'ok' })
      const p = makePool([{ url: 'http://a', rateLimit: { perSecond: 20 } }, 'http://b'])
      await p.request('eth_blockNumber')
      expect(p.stats().endpoints[0]!.rateLimit).toEqual({ perSecond: 10, burst: 10, tokens: 0, configured: 20, lowered: true })
      await vi.advanceTimersByTimeAsync(5_000)
      expect(p.stats().endpoints[0]!.rateLimit).toMatchObject({ perSecond: 15, lowered: true })
      await vi.advanceTimersByTimeAsync(5_000)
      expect(p.stats().endpoints[0]!.rateLimit).toMatchObject({ perSecond: 20, lowered: false })
    })

    it('an endpoint without a rateLimit learns one from a 429', async () => {
      let calls = 0
      fake.set('a', () => (++calls > 20 ? { kind: 'status', status: 429 } : { kind: 'ok' }))
      fake.set('b', { kind: 'ok' })
      const p = makePool(['http://a', 'http://b'])
      expect(p.stats().endpoints[0]!.rateLimit).toBeUndefined()
      // ~40 requests/s, half of them to a, until a answers 429.
      for (let i = 0; i < 50; i++) {
        await p.request('eth_blockNumber')
        await vi.advanceTimersByTimeAsync(25)
      }
      const learned = p.stats().endpoints[0]!.rateLimit!
      expect(learned.configured).toBeUndefined()
      expect(learned.lowered).toBe(true)
      expect(learned.perSecond).toBeGreaterThanOrEqual(5)
      expect(learned.perSecond).toBeLessThanOrEqual(15)
    })
  })
})
