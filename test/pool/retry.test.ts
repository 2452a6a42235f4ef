import { describe, expect, it, vi } from 'vitest'
import { classifyError, isResilientRpcError, type EndpointConfig, type PoolOptions } from '../../src/index.js'
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

  it('cools an endpoint down for the back-off its JSON-RPC rate-limit error names in data (HTTP 200)', async () => {
    fake.set('a', { kind: 'rpcError', code: -32005, message: 'project ID request rate exceeded', data: { backoff_seconds: 5 } })
    fake.set('b', { kind: 'ok' })
    const p = makePool({}, ['http://a', 'http://b'])
    await p.request('eth_blockNumber')
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'cooldown' })
    await vi.advanceTimersByTimeAsync(4_999)
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'cooldown' })
    await vi.advanceTimersByTimeAsync(1)
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'up' })
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

    it('a retry that no endpoint can take now is not charged: it waits for one like a new request, and is served', async () => {
      for (const h of ['a', 'b']) fake.set(h, { kind: 'status', status: 429 })
      // No share of first attempts, a reserve of one retry over the window.
      const p = makePool(['http://a', 'http://b'], { retryBudget: { ratio: 0, minPerSecond: 0.1, window: 10_000 } })
      const { outcome, done } = start(p.request('eth_blockNumber'))
      await vi.advanceTimersByTimeAsync(0)
      // a said 429 (cooling down 1 s): failing over to b spent the one retry. b said 429 too: the next
      // retry has no endpoint to go to, so it waits for a cool-down to end, charged nothing.
      expect(fake.calls.map((c) => c.host)).toEqual(['a', 'b'])
      expect(p.stats().retryBudget).toMatchObject({ spent: 1, allowed: 1 })
      expect(outcome.settled).toBe(false)
      fake.set('a', { kind: 'ok', result: '0x10' })
      await vi.advanceTimersByTimeAsync(1_000)
      await done
      expect(outcome.value).toBe('0x10')
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

describe('a read pinned to a block an endpoint lacks', () => {
  // Endpoints behind the block a read is pinned to say so ("header not found", a refused log range,
  // `null` for a block lookup): the read is asked elsewhere, the endpoint is not asked again by it,
  // and nothing of it counts against the endpoint.
  const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })
  const HEADER_NOT_FOUND = { kind: 'rpcError', code: -32000, message: 'header not found' } as const
  const BLOCK = { number: '0x10', hash: `0x${'ab'.repeat(32)}` }
  const asked = () => fake.calls.map((c) => c.host)

  it.each([
    { node: 'geth, state read', method: 'eth_getBalance', params: ['0x1', '0x10'], lacks: HEADER_NOT_FOUND },
    { node: 'geth, EIP-1898 block', method: 'eth_call', params: [{ to: '0x1' }, { blockNumber: '0x10' }], lacks: HEADER_NOT_FOUND },
    { node: 'geth, log range past its head (-32602)', method: 'eth_getLogs', params: [{ fromBlock: '0x1', toBlock: '0x10' }], lacks: { kind: 'rpcError', code: -32602, message: 'block range extends beyond current head block' } },
    { node: 'anvil (-32602)', method: 'eth_getCode', params: ['0x1', '0x10'], lacks: { kind: 'rpcError', code: -32602, message: 'BlockOutOfRangeError: block height is 15 but requested was 16' } },
    { node: 'reth', method: 'eth_getStorageAt', params: ['0x1', '0x0', '0x10'], lacks: { kind: 'rpcError', code: -32001, message: 'block not found: 0x10' } },
    { node: 'a null block', method: 'eth_getBlockByNumber', params: ['0x10', false], lacks: { kind: 'ok', result: null } },
    { node: 'null receipts', method: 'eth_getBlockReceipts', params: ['0x10'], lacks: { kind: 'ok', result: null } },
    { node: 'a null count', method: 'eth_getBlockTransactionCountByNumber', params: ['0x10'], lacks: { kind: 'ok', result: null } },
  ] as const)('$node: $method is asked elsewhere, not held against it', async ({ method, params, lacks }) => {
    fake.set('a', lacks)
    fake.set('b', { kind: 'ok', result: BLOCK })
    const p = makePool({ retryBudget: { ratio: 0, minPerSecond: 0, window: 10_000 } })
    const events: string[] = []
    p.on('request:error', (e) => events.push(e.error.code))
    // Without a retry budget: asking elsewhere for a block is routing, not a retry storm.
    await expect(p.request(method, [...params])).resolves.toEqual(BLOCK)
    expect(asked()).toEqual(['a', 'b'])
    expect(events).toEqual([])
    expect(p.stats().endpoints[0]).toMatchObject({ failures: 0, consecutiveFailures: 0, breaker: 'closed', status: 'up' })
  })

  it('the same read never asks it again, whatever the others answer', async () => {
    fake.set('a', HEADER_NOT_FOUND)
    fake.set('b', { kind: 'status', status: 502 })
    fake.set('c', { kind: 'ok', result: null })
    const p = makePool({ retries: 4 })
    const { outcome, done } = start(p.request('eth_getBlockByNumber', ['0x10', false]))
    await vi.advanceTimersByTimeAsync(10_000)
    await done
    // b may have the block: it is asked again after back-offs; a and c said they lack it.
    expect(asked()).toEqual(['a', 'b', 'c', 'b', 'b'])
    expect(outcome.error).toMatchObject({ code: 'RETRIES_EXHAUSTED' })
  })

  it('when every endpoint lacks it: BLOCK_UNAVAILABLE at once, each asked once, with what each said', async () => {
    fake.set('a', HEADER_NOT_FOUND)
    fake.set('b', { kind: 'rpcError', code: -32001, message: 'block not found: 0x10' })
    fake.set('c', HEADER_NOT_FOUND)
    const p = makePool({ retries: 10 })
    // No timer advanced: nothing waits for an endpoint that said it lacks the block.
    const error = await p.request('eth_getBalance', ['0x1', '0x10']).catch((e: unknown) => e)
    expect(asked()).toEqual(['a', 'b', 'c'])
    expect(isResilientRpcError(error, 'BLOCK_UNAVAILABLE') && error.block).toBe(16n)
    expect((error as Error).message).toMatchInlineSnapshot(`
      "No endpoint has block 16: each one asked answered that it lacks it
      Attempts:
        1. http://a:80#0 (0 ms): [RPC_ERROR] RPC error -32000: header not found
        2. http://b:80#1 (0 ms): [RPC_ERROR] RPC error -32001: block not found: 0x10
        3. http://c:80#2 (0 ms): [RPC_ERROR] RPC error -32000: header not found"
    `)
    expect(classifyError(error)).toEqual({ retryable: false, verdict: 'neutral' })
    for (const e of p.stats().endpoints) expect(e).toMatchObject({ failures: 0, status: 'up' })
  })

  it('within its retries: the endpoints asked lacking it is BLOCK_UNAVAILABLE too', async () => {
    for (const h of ['a', 'b', 'c']) fake.set(h, HEADER_NOT_FOUND)
    const p = makePool({ retries: 1 })
    await expect(p.request('eth_getBalance', ['0x1', '0x10'])).rejects.toMatchObject({ code: 'BLOCK_UNAVAILABLE', block: 16n })
    expect(asked()).toEqual(['a', 'b'])
  })

  it('a block lookup every endpoint answers null resolves null: no such block yet', async () => {
    for (const h of ['a', 'b', 'c']) fake.set(h, { kind: 'ok', result: null })
    const p = makePool()
    await expect(p.request('eth_getBlockByNumber', ['0x99', false])).resolves.toBeNull()
    expect(asked()).toEqual(['a', 'b', 'c'])
    // Not pinned, or a method whose null is an answer of its own: asked once, as before.
    fake.calls.length = 0
    await expect(p.request('eth_getBlockByNumber', ['latest', false])).resolves.toBeNull()
    await expect(p.request('eth_getTransactionByBlockNumberAndIndex', ['0x10', '0x5'])).resolves.toBeNull()
    expect(fake.calls).toHaveLength(2)
  })

  it('other reads are not affected: "header not found" for a latest read is retried as before, the endpoint not excluded', async () => {
    fake.set('a', HEADER_NOT_FOUND)
    fake.set('b', { kind: 'status', status: 502 })
    const p = makePool({ retries: 2 }, ['http://a', 'http://b'])
    const { outcome, done } = start(p.request('eth_getBalance', ['0x1', 'latest']))
    await vi.advanceTimersByTimeAsync(10_000)
    await done
    expect(asked()).toEqual(['a', 'b', 'a'])
    expect(outcome.error).toMatchObject({ code: 'RETRIES_EXHAUSTED' })
  })
})
