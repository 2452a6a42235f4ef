import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPool, type Pool } from '../../src/index.js'
import { createFakeFetch, type FakeFetch } from '../support/fakeFetch.js'

// The request path's timers (PoolCore.timers, src/pool/core.ts): deadlines, attempt timeouts and hedge
// delays share one native timer (src/util/timerWheel.ts).

let fake: FakeFetch
let pool: Pool | undefined

beforeEach(() => {
  vi.useFakeTimers()
  fake = createFakeFetch()
})

afterEach(async () => {
  await pool?.destroy()
  pool = undefined
  expect(vi.getTimerCount()).toBe(0)
  vi.useRealTimers()
})

describe('pool timers', () => {
  it('many requests in flight hold one native timer, and every settled request clears its entries', async () => {
    for (const h of ['a', 'b', 'c']) fake.set(h, { kind: 'ok', delay: 20 })
    // Hedging on (a hedge delay per read), heartbeats off (their own timers are not the subject).
    pool = createPool({ endpoints: ['http://a', 'http://b', 'http://c'], fetch: fake.fetch, heartbeat: false, dedupe: false, random: () => 0 })
    const p = pool
    // The breakers' rolling windows keep timers of their own.
    const idle = vi.getTimerCount()
    for (let round = 0; round < 20; round++) {
      const all = Promise.all(Array.from({ length: 50 }, () => p.request('eth_call', [{ to: '0x01' }, 'latest'], { timeout: 30_000, attemptTimeout: 10_000 })))
      // 50 requests × (deadline, attempt timeout, hedge delay), but only the fetch delays and the wheel's timer are native.
      expect(vi.getTimerCount()).toBeLessThanOrEqual(idle + 50 + 1)
      await vi.advanceTimersByTimeAsync(20)
      await expect(all).resolves.toHaveLength(50)
    }
    // Nothing due any more: the wheel's timer, if still armed for a cancelled entry, goes at its wake-up and is not re-armed.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(vi.getTimerCount()).toBe(idle)
    expect(fake.calls.length).toBe(1_000)
  })

  it('a deadline still fires on time with other requests coming and going around it', async () => {
    let calls = 0
    fake.set('a', () => (calls++ === 0 ? { kind: 'hang' } : { kind: 'ok', delay: 5 }))
    pool = createPool({ endpoints: ['http://a'], fetch: fake.fetch, heartbeat: false, hedge: false, dedupe: false })
    const p = pool
    const t0 = Date.now()
    const slow = p.request('eth_blockNumber', [], { timeout: 1_000 }).catch((e: unknown) => ({ e, at: Date.now() - t0 }))
    for (let i = 0; i < 10; i++) {
      const quick = p.request('eth_blockNumber', [], { timeout: 100 })
      await vi.advanceTimersByTimeAsync(5)
      await quick
    }
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(slow).resolves.toMatchObject({ e: { code: 'TIMEOUT' }, at: 1_000 })
  })
})
