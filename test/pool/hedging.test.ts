import { describe, expect, it, vi } from 'vitest'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// Hedged reads (src/pool/hedging.ts) with a scripted fetch and fake timers.
const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })

describe('hedging', () => {
  it('sends a slow read to a second endpoint after the hedge delay; the first answer wins, the loser is aborted and not blamed', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'ok', result: '0xb' })
    const p = makePool({ hedge: { delay: 100 }, strategy: 'weighted-round-robin' }, ['http://a', 'http://b'])
    const hedges: string[] = []
    p.on('request:hedge', (e) => hedges.push(`${e.endpoint} -> ${e.hedge} after ${e.delay} ms`))
    const r = start(p.request('eth_getBalance', ['0x1', 'latest']))
    await vi.advanceTimersByTimeAsync(99)
    expect(fake.calls.map((c) => c.host)).toEqual(['a'])
    await vi.advanceTimersByTimeAsync(1)
    await r.done
    expect(r.outcome.value).toBe('0xb')
    expect(hedges).toEqual(['http://a:80#0 -> http://b:80#1 after 100 ms'])
    expect(fake.calls[0]!.signal.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]).toMatchObject({ failures: 0, consecutiveFailures: 0, inFlight: 0 })
  })

  it('stays within its budget: about one hedge per ten reads', async () => {
    fake.set('a', { kind: 'ok', delay: 1_000 })
    fake.set('b', { kind: 'ok', delay: 1_000 })
    const p = makePool({ hedge: { delay: 100, budget: 0.1 } }, ['http://a', 'http://b'])
    let hedges = 0
    p.on('request:hedge', () => hedges++)
    const all = Promise.all(Array.from({ length: 30 }, (_, i) => p.request('eth_getBalance', [`0x${i}`, 'latest'])))
    await vi.advanceTimersByTimeAsync(1_100)
    await all
    // One token to start with, plus a tenth per read: 1 + 30 × 0.1 = 4.
    expect(hedges).toBe(4)
  })

  it('with the hedge budget spent, a read stuck past half its time left gets one rescue hedge, so a short deadline still succeeds', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'hang' })
    fake.set('c', { kind: 'ok', result: '0xc' })
    const p = makePool({ hedge: { delay: 100, budget: 0.01 }, attemptTimeout: 5_000 }, ['http://a', 'http://b', 'http://c'])
    const hedges: string[] = []
    p.on('request:hedge', (e) => hedges.push(`${e.endpoint.slice(7, 8)}->${e.hedge.slice(7, 8)} at ${e.delay}`))
    // Two reads at once: the first goes to a, the second to b; both hang. The one token a fresh pool
    // has hedges the first at 100 ms; the second has no token: at half its deadline (500 ms) it is rescued.
    const first = start(p.request('eth_getBalance', ['0x1', 'latest'], { timeout: 1_000 }))
    const second = start(p.request('eth_getBalance', ['0x2', 'latest'], { timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(100)
    await first.done
    expect(first.outcome.value).toBe('0xc')
    await vi.advanceTimersByTimeAsync(399)
    expect(second.outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await second.done
    expect(second.outcome.value).toBe('0xc')
    expect(hedges).toEqual(['a->c at 100', 'b->c at 500'])
  })

  it('no rescue hedge when the attempt timeout already fits in half the time left', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'ok', result: '0xb' })
    const p = makePool({ hedge: { delay: 100, budget: 0.01 }, strategy: 'weighted-round-robin', attemptTimeout: 300 }, ['http://a', 'http://b'])
    const hedges: number[] = []
    p.on('request:hedge', (e) => hedges.push(e.delay))
    await Promise.all([0, 1].map(async (i) => {
      const r = start(p.request('eth_getBalance', [`0x${i}`, 'latest'], { timeout: 1_000 }))
      await vi.advanceTimersByTimeAsync(100)
      await r.done
    }))
    const third = start(p.request('eth_getBalance', ['0x3', 'latest'], { timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(300)
    await third.done
    // The attempt timed out at 300 ms and the retry went to b: a failover, not a hedge.
    expect(third.outcome.value).toBe('0xb')
    expect(hedges).toEqual([100])
  })

  it('never hedges a write, and fails over at once when the first attempt fails fast', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'ok' })
    const p = makePool({ hedge: { delay: 100 }, attemptTimeout: 1_000, strategy: 'weighted-round-robin' }, ['http://a', 'http://b'])
    const write = start(p.request('eth_sendRawTransaction', ['0x02']))
    await vi.advanceTimersByTimeAsync(500)
    expect(fake.calls.map((c) => c.host)).toEqual(['a'])
    await vi.advanceTimersByTimeAsync(500)
    await write.done
    await p.destroy()
    fake.set('a', { kind: 'network' })
    fake.calls.length = 0
    const q = makePool({ hedge: { delay: 100 }, attemptTimeout: 1_000, strategy: 'weighted-round-robin' }, ['http://a', 'http://b'])
    const read = start(q.request('eth_getBalance', ['0x1', 'latest']))
    await vi.advanceTimersByTimeAsync(0)
    await read.done
    expect(read.outcome.value).toBe('0x1')
    expect(fake.calls.map((c) => c.host)).toEqual(['a', 'b'])
  })
})

describe('hedging and latency', () => {
  it('an endpoint that loses a hedged race gets the time it took as a latency sample, so it stops looking fast', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'ok' })
    const p = makePool({ hedge: { delay: 100 }, strategy: 'weighted-round-robin' }, ['http://a', 'http://b'])
    const r = start(p.request('eth_getBalance', ['0x1', 'latest']))
    await vi.advanceTimersByTimeAsync(100)
    await r.done
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]).toMatchObject({ failures: 0, latencyEwma: 100 })
  })

  it('after losing a hedged race, an endpoint is picked after the others until it answers again', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'ok', result: '0xb' })
    const p = makePool({ hedge: { delay: 100, budget: 1 } }, ['http://a', 'http://b'])
    let hedges = 0
    p.on('request:hedge', () => hedges++)
    const first = start(p.request('eth_getBalance', ['0x1', 'latest']))
    await vi.advanceTimersByTimeAsync(100)
    await first.done
    expect(fake.calls.map((c) => c.host)).toEqual(['a', 'b'])
    // Both idle and equally fast on paper: without the hint, round-robin would try the hanging one again.
    for (let i = 2; i <= 4; i++) {
      const next = start(p.request('eth_getBalance', [`0x${i}`, 'latest']))
      await vi.advanceTimersByTimeAsync(0)
      await next.done
      expect(next.outcome.value).toBe('0xb')
    }
    expect(fake.calls.map((c) => c.host)).toEqual(['a', 'b', 'b', 'b', 'b'])
    expect(hedges).toBe(1)
    // An answer clears the hint.
    fake.set('a', { kind: 'ok' })
    fake.set('b', { kind: 'hang' })
    const back = start(p.request('eth_getBalance', ['0x5', 'latest']))
    await vi.advanceTimersByTimeAsync(100)
    await back.done
    expect(fake.calls.map((c) => c.host).slice(5)).toEqual(['b', 'a'])
    expect(p.stats().endpoints[0]).toMatchObject({ failures: 0, consecutiveFailures: 0 })
  })
})
