import { describe, expect, it, vi } from 'vitest'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// Unit tests of the request path with a scripted fetch and fake timers: every wait is driven by the test.

// Hedging and de-duplication change how many upstream requests a call makes: off here, tested on their own below.
const { fake, makePool, track } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })

describe('balancing and failover', () => {
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

describe('deadlines', () => {
  it('bounds the whole request, across attempts, by its timeout, and aborts the in-flight fetch', async () => {
    for (const h of ['a', 'b', 'c']) fake.set(h, { kind: 'hang' })
    const p = makePool({ attemptTimeout: 1_000 })
    const { outcome, done } = start(p.request('eth_blockNumber', [], { timeout: 2_500 }))
    await vi.advanceTimersByTimeAsync(2_499)
    expect(outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(isResilientRpcError(outcome.error, 'TIMEOUT')).toBe(true)
    expect(outcome.error).toMatchObject({ scope: 'request', timeout: 2_500 })
    // Two attempts timed out and the third was cut by the deadline; every fetch saw its signal abort.
    expect((outcome.error as { attempts: unknown[] }).attempts).toHaveLength(3)
    expect(fake.calls).toHaveLength(3)
    expect(fake.calls.every((c) => c.signal.aborted)).toBe(true)
  })

  it('applies the pool default timeout when the call gives none', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({ defaultTimeout: 700, attemptTimeout: 10_000 }, ['http://a'])
    const { outcome, done } = start(p.request('eth_blockNumber'))
    await vi.advanceTimersByTimeAsync(700)
    await done
    expect(outcome.error).toMatchObject({ code: 'TIMEOUT', scope: 'request', timeout: 700 })
  })

  it('a caller abort stops the fetch, rejects with ABORTED and counts against nobody', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({}, ['http://a'])
    const controller = new AbortController()
    const { outcome, done } = start(p.request('eth_blockNumber', [], { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(50)
    controller.abort(new Error('user went away'))
    await done
    // The caller is answered at once; the aborted fetch unwinds right after.
    await vi.advanceTimersByTimeAsync(0)
    expect(isResilientRpcError(outcome.error, 'ABORTED')).toBe(true)
    expect((outcome.error as Error).cause).toEqual(new Error('user went away'))
    expect(fake.calls[0]!.signal.aborted).toBe(true)
    expect(p.stats().endpoints[0]).toMatchObject({ failures: 0, served: 0, consecutiveFailures: 0, inFlight: 0 })
  })

  it('rejects at once for an already aborted signal, without sending', async () => {
    fake.set('a', { kind: 'ok' })
    const p = makePool({}, ['http://a'])
    await expect(p.request('eth_blockNumber', [], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' })
    expect(fake.calls).toHaveLength(0)
  })

  it('waits for an endpoint while none can take the request, then lists why each is out', async () => {
    fake.set('a', { kind: 'status', status: 401 })
    fake.set('b', { kind: 'status', status: 429, headers: { 'retry-after': '30' } })
    const p = makePool({}, ['http://a', 'http://b'])
    const { outcome, done } = start(p.request('eth_blockNumber', [], { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(5_000)
    await done
    expect(isResilientRpcError(outcome.error, 'NO_ENDPOINT')).toBe(true)
    const error = outcome.error as { excluded: { endpoint: string; reason: string }[] }
    expect(error.excluded.map((e) => e.endpoint)).toEqual(['http://a:80#0', 'http://b:80#1'])
    expect(error.excluded[0]!.reason).toMatch(/^HTTP 401/)
    expect(error.excluded[1]!.reason).toMatch(/^Rate limited \(retry after 30000 ms\)/)
  })
})

describe('retries', () => {
  it('never retries a revert', async () => {
    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted: nope', data: '0x08c379a0' })
    fake.set('b', { kind: 'ok' })
    const p = makePool({}, ['http://a', 'http://b'])
    const error = await p.request('eth_call', [{}, 'latest']).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'RPC_ERROR', rpcCode: 3, data: '0x08c379a0' })
    expect(fake.calls).toHaveLength(1)
    // Neutral: the endpoint did nothing wrong.
    expect(p.stats().endpoints[0]).toMatchObject({ failures: 0, consecutiveFailures: 0 })
  })

  it('retries 5xx and garbage, then reports every attempt', async () => {
    fake.set('a', { kind: 'status', status: 502, body: 'bad gateway' })
    fake.set('b', { kind: 'body', body: '<html>oops' })
    const p = makePool({ retries: 3 }, ['http://a', 'http://b'])
    const { outcome, done } = start(p.request('eth_blockNumber'))
    // The failover is free; coming back to tried endpoints backs off 100 ms, then 200 ms (random = 0: no jitter cut).
    await vi.advanceTimersByTimeAsync(99)
    expect(fake.calls).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(fake.calls).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(199)
    expect(fake.calls).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(isResilientRpcError(outcome.error, 'RETRIES_EXHAUSTED')).toBe(true)
    const attempts = (outcome.error as { attempts: { endpoint: string; error: { code: string } }[] }).attempts
    expect(attempts.map((a) => `${a.endpoint} ${a.error.code}`)).toEqual([
      'http://a:80#0 HTTP_ERROR',
      'http://b:80#1 INVALID_RESPONSE',
      'http://a:80#0 HTTP_ERROR',
      'http://b:80#1 INVALID_RESPONSE',
    ])
  })

  it('never re-sends eth_sendTransaction after a timeout, but does eth_sendRawTransaction', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'ok', result: '0xhash' })
    const p = makePool({ attemptTimeout: 100 }, ['http://a', 'http://b'])
    const send = start(p.request('eth_sendTransaction', [{}]))
    await vi.advanceTimersByTimeAsync(100)
    await send.done
    expect(send.outcome.error).toMatchObject({ code: 'TIMEOUT', scope: 'attempt' })
    expect(fake.callsTo('b')).toHaveLength(0)
    const raw = start(p.request('eth_sendRawTransaction', ['0x02']))
    await vi.advanceTimersByTimeAsync(100)
    await raw.done
    expect(raw.outcome.value).toBe('0xhash')
  })

  it('cools a rate-limited endpoint down for Retry-After and brings it back', async () => {
    fake.set('a', { kind: 'status', status: 429, headers: { 'retry-after': '2' } })
    fake.set('b', { kind: 'ok' })
    const p = makePool({}, ['http://a', 'http://b'])
    const events: string[] = []
    p.on('endpoint:state', (e) => events.push(`${e.endpoint} ${e.from}->${e.to}`))
    await p.request('eth_blockNumber')
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'cooldown' })
    fake.set('a', { kind: 'ok' })
    for (let i = 0; i < 3; i++) await p.request('eth_blockNumber')
    expect(fake.callsTo('a')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'up' })
    expect(events).toEqual(['http://a:80#0 up->cooldown', 'http://a:80#0 cooldown->up'])
  })

  it('takes an endpoint answering 401 out of rotation without hammering it', async () => {
    fake.set('a', { kind: 'status', status: 401 })
    fake.set('b', { kind: 'ok' })
    const p = makePool({}, ['http://a', 'http://b'])
    for (let i = 0; i < 10; i++) await p.request('eth_blockNumber')
    expect(fake.callsTo('a')).toHaveLength(1)
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'unauthorized', lastError: { code: 'UNAUTHORIZED' } })
  })
})

describe('circuit breaker', () => {
  it('opens after failures, moves traffic, half-opens after resetTimeout and closes on a successful trial', async () => {
    fake.set('a', { kind: 'network' })
    fake.set('b', { kind: 'ok' })
    // Round-robin keeps sending to `a` (least-connections would avoid it after its first failure).
    const p = makePool({ strategy: 'weighted-round-robin', breaker: { volumeThreshold: 3, resetTimeout: 1_000 } }, ['http://a', 'http://b'])
    const events: string[] = []
    p.on('circuit:open', (e) => events.push(`open ${e.endpoint}`))
    p.on('circuit:halfOpen', (e) => events.push(`halfOpen ${e.endpoint}`))
    p.on('circuit:close', (e) => events.push(`close ${e.endpoint}`))
    for (let i = 0; i < 6; i++) await p.request('eth_blockNumber')
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
    const sentToA = fake.callsTo('a').length
    for (let i = 0; i < 5; i++) await p.request('eth_blockNumber')
    expect(fake.callsTo('a')).toHaveLength(sentToA)
    fake.set('a', { kind: 'ok' })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')
    for (let i = 0; i < 3; i++) await p.request('eth_blockNumber')
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]!.breaker).toBe('closed')
    expect(events).toEqual(['open http://a:80#0', 'halfOpen http://a:80#0', 'close http://a:80#0'])
  })

  it('neutral outcomes never close a half-open breaker: a revert and a caller abort leave it half-open', async () => {
    fake.set('a', { kind: 'network' })
    const p = makePool({ breaker: { volumeThreshold: 1, resetTimeout: 1_000 }, retries: 0 }, ['http://a'])
    await p.request('eth_blockNumber').catch(() => {})
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')

    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted' })
    await expect(p.request('eth_call', [{}, 'latest'])).rejects.toMatchObject({ code: 'RPC_ERROR' })
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')

    fake.set('a', { kind: 'hang' })
    const controller = new AbortController()
    const aborted = start(p.request('eth_blockNumber', [], { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(10)
    controller.abort()
    await aborted.done
    await vi.advanceTimersByTimeAsync(0)
    expect(aborted.outcome.error).toMatchObject({ code: 'ABORTED' })
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')
  })

  it('counts attempts cut by a short request deadline as failures, so a hanging endpoint trips', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({ breaker: { volumeThreshold: 3 } }, ['http://a'])
    for (let i = 0; i < 3; i++) {
      const r = start(p.request('eth_blockNumber', [], { timeout: 50 }))
      await vi.advanceTimersByTimeAsync(50)
      await r.done
      expect(r.outcome.error).toMatchObject({ code: 'TIMEOUT', scope: 'request' })
    }
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
  })
})

describe('destroy', () => {
  it('aborts pool.signal with POOL_DESTROYED, once', async () => {
    const p = makePool({}, ['http://a'])
    const reasons: unknown[] = []
    p.signal.addEventListener('abort', () => reasons.push(p.signal.reason))
    expect(p.signal.aborted).toBe(false)
    await p.destroy()
    await p.destroy()
    expect(reasons).toHaveLength(1)
    expect(isResilientRpcError(reasons[0], 'POOL_DESTROYED')).toBe(true)
  })

  it('rejects pending requests, rejects later ones at once, and leaves no timer behind', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({}, ['http://a'])
    const pending = start(p.request('eth_blockNumber'))
    await vi.advanceTimersByTimeAsync(10)
    await p.destroy()
    await pending.done
    expect(isResilientRpcError(pending.outcome.error, 'POOL_DESTROYED')).toBe(true)
    expect(fake.calls[0]!.signal.aborted).toBe(true)
    await expect(p.request('eth_blockNumber')).rejects.toMatchObject({ code: 'POOL_DESTROYED' })
    await p.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects requests waiting for an endpoint', async () => {
    fake.set('a', { kind: 'status', status: 429, headers: { 'retry-after': '60' } })
    const p = makePool({}, ['http://a'])
    const waiting = start(p.request('eth_blockNumber'))
    await vi.advanceTimersByTimeAsync(100)
    expect(waiting.outcome.settled).toBe(false)
    await p.destroy()
    await waiting.done
    expect(waiting.outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
  })
})

describe('isolation', () => {
  it('a throwing listener does not break requests; it is reported as an error event', async () => {
    fake.set('a', { kind: 'status', status: 429 })
    fake.set('b', { kind: 'ok' })
    const p = makePool({}, ['http://a', 'http://b'])
    const reported: unknown[] = []
    p.on('endpoint:state', () => {
      throw new Error('listener bug')
    })
    p.on('error', (e) => reported.push(e))
    await expect(p.request('eth_blockNumber')).resolves.toBe('0x1')
    expect(reported).toEqual([new Error('listener bug')])
  })

  it('rejects bad call arguments with INVALID_OPTION', async () => {
    const p = makePool({}, ['http://a'])
    await expect(p.request('')).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'method' })
    await expect(p.request('eth_call', {} as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'params' })
    await expect(p.request('eth_call', [], { timeout: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'timeout' })
  })
})

describe('de-duplication', () => {
  it('identical concurrent reads share one upstream request', async () => {
    fake.set('a', { kind: 'ok', result: '0x2a', delay: 10 })
    const p = makePool({ dedupe: true }, ['http://a'])
    const all = Promise.all(Array.from({ length: 5 }, () => p.request('eth_call', [{ to: '0x1' }, 'latest'])))
    await vi.advanceTimersByTimeAsync(10)
    expect(await all).toEqual(Array(5).fill('0x2a'))
    expect(fake.calls).toHaveLength(1)
    // Different params, or a write, are separate requests.
    await Promise.all([p.request('eth_call', [{ to: '0x2' }, 'latest']), p.request('eth_call', [{ to: '0x3' }, 'latest']), vi.advanceTimersByTimeAsync(10)])
    expect(fake.calls).toHaveLength(3)
    await Promise.all([p.request('eth_sendRawTransaction', ['0x01']), p.request('eth_sendRawTransaction', ['0x01']), vi.advanceTimersByTimeAsync(10)])
    expect(fake.calls).toHaveLength(5)
  })

  it('the shared request is aborted only when every caller has left', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({ dedupe: true }, ['http://a'])
    const first = new AbortController()
    const a = start(p.request('eth_getBalance', ['0x1', 'latest'], { signal: first.signal }))
    const b = start(p.request('eth_getBalance', ['0x1', 'latest'], { timeout: 500 }))
    await vi.advanceTimersByTimeAsync(10)
    expect(fake.calls).toHaveLength(1)
    first.abort()
    await a.done
    expect(a.outcome.error).toMatchObject({ code: 'ABORTED' })
    expect(fake.calls[0]!.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(490)
    await b.done
    expect(b.outcome.error).toMatchObject({ code: 'TIMEOUT', scope: 'request' })
    expect(fake.calls[0]!.signal.aborted).toBe(true)
  })
})

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
