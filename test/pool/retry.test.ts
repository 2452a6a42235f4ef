import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError, type EndpointConfig, type PoolOptions } from '../../src/index.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// The retry loop (src/pool/retry.ts) through the public API with a scripted fetch and fake timers.
// Hedging and de-duplication change how many upstream requests a call makes: off here.

describe('retries', () => {
  const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })

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

describe('retry budget', () => {
  // The pool's per-endpoint limits (bulkhead, rate limit, learned limit, bounded queue) and its retry
  // budget, with a scripted fetch and fake timers.

  const fakePool = useFakePool({ random: () => 0, heartbeat: false, hedge: false, dedupe: false })
  const { fake } = fakePool
  const makePool = (endpoints: EndpointConfig[], options: Partial<PoolOptions> = {}) => fakePool.makePool(options, endpoints)

  describe('across the pool', () => {
    it('a retry over budget fails fast with RETRY_BUDGET_EXHAUSTED, listing the attempts made', async () => {
      for (const h of ['a', 'b', 'c']) fake.set(h, { kind: 'status', status: 500 })
      // No share of first attempts, a reserve of 2 retries over the window.
      const p = makePool(['http://a', 'http://b', 'http://c'], { retryBudget: { ratio: 0, minPerSecond: 0.2, window: 10_000 } })
      const first = await p.request('eth_blockNumber').catch((e: unknown) => e)
      expect(isResilientRpcError(first, 'RETRY_BUDGET_EXHAUSTED')).toBe(true)
      expect((first as Error).message).toMatchInlineSnapshot(`
        "Retry budget exhausted: too many retries across the pool, not retrying
        Attempts:
          1. http://a:80#0 (0 ms): [HTTP_ERROR] HTTP 500
          2. http://b:80#1 (0 ms): [HTTP_ERROR] HTTP 500
          3. http://c:80#2 (0 ms): [HTTP_ERROR] HTTP 500"
      `)
      // The budget is spent: the next request gets its first attempt only.
      const second = await p.request('eth_blockNumber').catch((e: unknown) => e)
      expect(second).toMatchObject({ code: 'RETRY_BUDGET_EXHAUSTED' })
      expect((second as { attempts: unknown[] }).attempts).toHaveLength(1)
      expect(fake.calls).toHaveLength(4)
      expect(p.stats().retryBudget).toEqual({ firstAttempts: 2, spent: 2, allowed: 2 })
    })

    it('first attempts earn retries: ratio × first attempts over the window', async () => {
      for (const h of ['a', 'b']) fake.set(h, { kind: 'ok' })
      const p = makePool(['http://a', 'http://b'], { retryBudget: { ratio: 0.5, minPerSecond: 0 }, backoff: { initial: 0, max: 0 } })
      for (let i = 0; i < 4; i++) await p.request('eth_blockNumber')
      fake.set('a', { kind: 'network' })
      fake.set('b', { kind: 'network' })
      // 4 first attempts earned 2 retries; this request's own first attempt earns half of one more.
      const error = await p.request('eth_blockNumber', [], { retries: 5 }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'RETRY_BUDGET_EXHAUSTED' })
      expect((error as { attempts: unknown[] }).attempts).toHaveLength(3)
    })

    it('hedges draw from the same budget: none once it is spent', async () => {
      fake.set('a', { kind: 'ok', delay: 1_000 })
      fake.set('b', { kind: 'ok', delay: 10 })
      const p = makePool(['http://a', 'http://b'], { hedge: { delay: 100, budget: 1 }, retryBudget: { ratio: 0, minPerSecond: 0.1, window: 10_000 } })
      const hedges: string[] = []
      p.on('request:hedge', (e) => hedges.push(e.hedge))
      const one = start(p.request('eth_getBalance', ['0x1', '0x1']))
      await vi.advanceTimersByTimeAsync(200)
      await one.done
      expect(hedges).toHaveLength(1)
      // The one extra attempt of the window went to that hedge; a's next slow read is not hedged.
      const two = start(p.request('eth_getBalance', ['0x2', '0x1']))
      await vi.advanceTimersByTimeAsync(1_100)
      await two.done
      expect(hedges).toHaveLength(1)
      expect(p.stats().retryBudget).toMatchObject({ spent: 1, allowed: 1 })
    })

    it('retryBudget: false turns it off', async () => {
      for (const h of ['a', 'b']) fake.set(h, { kind: 'status', status: 500 })
      const p = makePool(['http://a', 'http://b'], { retryBudget: false, retries: 3, backoff: { initial: 0, max: 0 } })
      const error = await p.request('eth_blockNumber').catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'RETRIES_EXHAUSTED' })
      expect(fake.calls).toHaveLength(4)
      expect(p.stats().retryBudget).toBeUndefined()
    })
  })
})
