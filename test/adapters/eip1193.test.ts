import { ContractFunctionRevertedError, createPublicClient, custom, encodeErrorResult, BaseError, InternalRpcError, ProviderDisconnectedError } from 'viem'
import { EventEmitter } from 'eventemitter3'
import { describe, expect, it, vi } from 'vitest'
import { createEip1193Provider, type Eip1193Provider } from '../../src/adapters/eip1193.js'
import { ProviderRpcError } from '../../src/adapters/providerRpcError.js'
import { createPool, isResilientRpcError, type Pool, type PoolEvents, type PoolOptions } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { start } from '../support/async.js'
import { fakeEndpointStats, fakePoolStats } from '../support/fakeStats.js'
import { useFakePool } from '../support/fakePool.js'
import { chainNode, scriptedBlock } from '../support/scriptedChain.js'

// The EIP-1193 provider over a real pool of scripted endpoints: what reaches the pool, and how every
// failure is reported to viem and wallet libraries.

const COUNTER = '0x5fbdb2315678afecb367f032d93f642f64180aa3'

const { fake, makePool, track } = useFakePool({ endpoints: ['http://a', 'http://b'], heartbeat: false, random: () => 0, retries: 1, backoff: { initial: 1 } }, { initial: { a: { kind: 'ok', result: '0x10' }, b: { kind: 'ok', result: '0x10' } } })

function setup(options: Partial<PoolOptions> = {}): { pool: Pool; provider: Eip1193Provider } {
  const pool = makePool(options)
  return { pool, provider: createEip1193Provider(pool) }
}

/** Awaits a request that must reject with a ProviderRpcError, driving fake timers meanwhile. */
async function rejection(promise: Promise<unknown>, ms = 0): Promise<ProviderRpcError> {
  const { outcome, done } = start(promise)
  await vi.advanceTimersByTimeAsync(ms)
  await done
  expect(outcome.error).toBeInstanceOf(ProviderRpcError)
  return outcome.error as ProviderRpcError
}

describe('requests', () => {
  it('sends method and params through the pool and resolves with the result', async () => {
    const { provider } = setup()
    await expect(provider.request({ method: 'eth_getBalance', params: [COUNTER, 'latest'] })).resolves.toBe('0x10')
    await expect(provider.request({ method: 'eth_blockNumber' })).resolves.toBe('0x10')
    expect(fake.calls.map((c) => [c.method, c.params])).toEqual([
      ['eth_getBalance', [COUNTER, 'latest']],
      ['eth_blockNumber', []],
    ])
  })

  it("rejects with the node's code, message and data; the pool's error is the cause", async () => {
    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted: nope', data: '0xdeadbeef' })
    const { provider } = setup({ endpoints: ['http://a'] })
    const error = await rejection(provider.request({ method: 'eth_call', params: [{ to: COUNTER, data: '0x' }, 'latest'] }))
    expect(error).toMatchObject({ code: 3, message: 'execution reverted: nope', data: '0xdeadbeef' })
    expect(isResilientRpcError(error.cause, 'RPC_ERROR')).toBe(true)
    expect(fake.calls).toHaveLength(1)
  })

  it('a deadline is -32603 with data.code TIMEOUT', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'hang' })
    const pool = track(createPool({ endpoints: ['http://a', 'http://b'], fetch: fake.fetch, heartbeat: false }))
    const provider = createEip1193Provider(pool, { timeout: 1_000 })
    const error = await rejection(provider.request({ method: 'eth_blockNumber' }), 1_000)
    expect(error).toMatchObject({ code: -32603, data: { code: 'TIMEOUT' } })
    expect(isResilientRpcError(error.cause, 'TIMEOUT')).toBe(true)
  })

  it('every endpoint failing is -32603 (RETRIES_EXHAUSTED)', async () => {
    fake.set('a', { kind: 'status', status: 500 })
    fake.set('b', { kind: 'status', status: 503 })
    const { provider } = setup()
    expect(await rejection(provider.request({ method: 'eth_blockNumber' }))).toMatchObject({ code: -32603, data: { code: 'RETRIES_EXHAUSTED' } })
  })

  it('a rate limit that ends the request is -32005 Limit exceeded', async () => {
    fake.set('a', { kind: 'status', status: 429 })
    const { provider } = setup({ endpoints: ['http://a'], retries: 0 })
    expect(await rejection(provider.request({ method: 'eth_blockNumber' }))).toMatchObject({ code: -32005, data: { code: 'RATE_LIMITED' } })
  })

  it('no endpoint able to serve is 4900 Disconnected (NO_ENDPOINT)', async () => {
    fake.set('a', { kind: 'status', status: 401 })
    fake.set('b', { kind: 'status', status: 403 })
    const pool = track(createPool({ endpoints: ['http://a', 'http://b'], fetch: fake.fetch, heartbeat: false }))
    const provider = createEip1193Provider(pool, { timeout: 2_000 })
    const error = await rejection(provider.request({ method: 'eth_blockNumber' }), 2_000)
    expect(error).toMatchObject({ code: 4900, data: { code: 'NO_ENDPOINT' } })
  })

  it('a destroyed pool is 4900; a caller abort is 4001 (data.code ABORTED)', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'hang' })
    const { pool: p, provider } = setup()
    const controller = new AbortController()
    const aborted = rejection(provider.request({ method: 'eth_blockNumber' }, { signal: controller.signal }))
    controller.abort()
    expect(await aborted).toMatchObject({ code: 4001, data: { code: 'ABORTED' } })
    await p.destroy()
    expect(await rejection(provider.request({ method: 'eth_blockNumber' }))).toMatchObject({ code: 4900, data: { code: 'POOL_DESTROYED' } })
  })

  it('refuses malformed requests: -32600 without a method, -32602 for by-name or unserialisable params', async () => {
    const { provider } = setup()
    expect(await rejection(provider.request({} as never))).toMatchObject({ code: -32600 })
    expect(await rejection(provider.request(null as never))).toMatchObject({ code: -32600 })
    expect(await rejection(provider.request({ method: 'eth_getBalance', params: { address: COUNTER } }))).toMatchObject({ code: -32602 })
    expect(await rejection(provider.request({ method: 'eth_getBalance', params: [COUNTER, 1n] }))).toMatchObject({ code: -32602, data: { code: 'INVALID_OPTION' } })
    expect(fake.calls).toHaveLength(0)
  })

  it('answers filter methods itself; none reaches a node', async () => {
    const { provider } = setup()
    const id = await provider.request({ method: 'eth_newFilter', params: [{ address: COUNTER }] })
    fake.set('a', (call) => (call.method === 'eth_getLogs' ? { kind: 'ok', result: [] } : { kind: 'ok', result: '0x11' }))
    fake.set('b', (call) => (call.method === 'eth_getLogs' ? { kind: 'ok', result: [] } : { kind: 'ok', result: '0x11' }))
    await expect(provider.request({ method: 'eth_getFilterChanges', params: [id] })).resolves.toEqual([])
    await expect(provider.request({ method: 'eth_uninstallFilter', params: [id] })).resolves.toBe(true)
    expect(await rejection(provider.request({ method: 'eth_getFilterChanges', params: [id] }))).toMatchObject({ code: -32000, message: 'filter not found' })
    expect(await rejection(provider.request({ method: 'eth_newPendingTransactionFilter' }))).toMatchObject({ code: 4200 })
    expect(fake.calls.map((c) => c.method)).toEqual(['eth_blockNumber', 'eth_blockNumber', 'eth_getLogs'])
  })

  it('validates the pool and its options', () => {
    const p = setup().pool
    expect(() => createEip1193Provider({} as Pool)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'pool' }))
    expect(() => createEip1193Provider(undefined as never)).toThrow('Invalid option `pool`: expected a pool from createPool(), got undefined')
    expect(() => createEip1193Provider(p, null as never)).toThrow('Invalid option `options`: expected an object, got null')
    expect(() => createEip1193Provider(p, { timeout: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'timeout' }))
    expect(() => createEip1193Provider(p, { filters: { idleTimeout: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'filters.idleTimeout' }))
  })
})

describe('through viem', () => {
  it('a revert with a custom error becomes ContractFunctionRevertedError, asked once', async () => {
    const data = encodeErrorResult({ abi: counterAbi, errorName: 'Unauthorized', args: [COUNTER, 42n] })
    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted', data })
    const { provider } = setup({ endpoints: ['http://a'] })
    const client = createPublicClient({ transport: custom(provider, { retryCount: 0 }) })
    const error = await client.readContract({ address: COUNTER, abi: counterAbi, functionName: 'failCustom', args: [42n] }).catch((e: unknown) => e)
    const revert = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError
    expect(revert.data).toMatchObject({ errorName: 'Unauthorized', args: [expect.stringMatching(/^0x5fbdb/i), 42n] })
    expect(fake.calls).toHaveLength(1)
  })

  it('pool failures surface as viem RPC errors with the pool error underneath', async () => {
    fake.set('a', { kind: 'status', status: 500 })
    fake.set('b', { kind: 'status', status: 500 })
    const { pool: p, provider } = setup()
    const client = createPublicClient({ transport: custom(provider, { retryCount: 0 }) })
    const internal = await client.getBlockNumber({ cacheTime: 0 }).catch((e: unknown) => e)
    expect(internal).toBeInstanceOf(InternalRpcError)
    expect((internal as BaseError).walk((e) => isResilientRpcError(e, 'RETRIES_EXHAUSTED'))).toBeTruthy()
    await p.destroy()
    expect(await client.getBlockNumber({ cacheTime: 0 }).catch((e: unknown) => e)).toBeInstanceOf(ProviderDisconnectedError)
  })
})

describe('connect and disconnect events', () => {
  it('follow whether any endpoint is up, while someone listens', async () => {
    fake.set('a', (call) => ({ kind: 'ok', result: call.method === 'eth_chainId' ? '0x1' : '0x10' }))
    fake.set('b', (call) => ({ kind: 'ok', result: call.method === 'eth_chainId' ? '0x1' : '0x10' }))
    const pool = track(createPool({ endpoints: ['http://a', 'http://b'], fetch: fake.fetch, random: () => 0, heartbeat: { interval: 100, timeout: 50, jitter: 0 } }))
    const ready = pool.ready({ minHealthy: 2 })
    await vi.advanceTimersByTimeAsync(300)
    await ready
    const provider = createEip1193Provider(pool)
    const events: unknown[] = []
    const onConnect = (info: { chainId: string }) => events.push(['connect', info])
    const onDisconnect = (error: ProviderRpcError) => events.push(['disconnect', error.code])
    provider.on('connect', onConnect).on('disconnect', onDisconnect)

    fake.set('a', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(events).toEqual([])
    fake.set('b', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(events).toEqual([['disconnect', 4900]])
    fake.set('a', (call) => ({ kind: 'ok', result: call.method === 'eth_chainId' ? '0x1' : '0x10' }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(events).toEqual([['disconnect', 4900], ['connect', { chainId: '0x1' }]])

    provider.removeListener('connect', onConnect).removeListener('disconnect', onDisconnect)
    fake.set('a', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pool.stats().endpoints.map((e) => e.status)).toEqual(['down', 'down'])
    expect(events).toHaveLength(2)
  })

  it('watches the pool only while someone listens; a listener added twice hears each event once', () => {
    const events = new EventEmitter<PoolEvents>()
    const endpoints = [fakeEndpointStats('a')]
    const pool = { request: () => Promise.resolve(), stats: () => fakePoolStats(endpoints), on: events.on.bind(events), off: events.off.bind(events) } as unknown as Pool
    const provider = createEip1193Provider(pool)
    const heard: number[] = []
    const listener = (e: ProviderRpcError) => heard.push(e.code)
    expect(events.listenerCount('endpoint:state')).toBe(0)
    provider.on('disconnect', listener).on('disconnect', listener)
    expect(events.listenerCount('endpoint:state')).toBe(1)
    events.emit('endpoint:state', { endpoint: 'a', from: 'up', to: 'down' })
    expect(heard).toEqual([4900])
    provider.removeListener('disconnect', listener)
    expect(events.listenerCount('endpoint:state')).toBe(0)
    provider.removeListener('disconnect', listener)
    expect(heard).toEqual([4900])
  })

  it('a throwing listener does not keep the others from hearing the event', async () => {
    fake.set('a', (call) => ({ kind: 'ok', result: call.method === 'eth_chainId' ? '0x1' : '0x10' }))
    const pool = track(createPool({ endpoints: ['http://a'], fetch: fake.fetch, random: () => 0, heartbeat: { interval: 100, timeout: 50, jitter: 0 } }))
    const ready = pool.ready()
    await vi.advanceTimersByTimeAsync(300)
    await ready
    const reported: unknown[] = []
    pool.on('error', (e) => reported.push(e))
    const heard: string[] = []
    createEip1193Provider(pool)
      .on('disconnect', () => {
        throw new Error('listener bug')
      })
      .on('disconnect', () => heard.push('second'))
    fake.set('a', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(heard).toEqual(['second'])
    expect(reported).toEqual([new Error('listener bug')])
  })
})

describe('subscriptions (eth_subscribe)', () => {
  const head = { n: 0x10 }
  const node = () => fake.set('a', chainNode(head))

  it('newHeads: an id, then the head and each new one once as `message` events, until eth_unsubscribe', async () => {
    head.n = 0x10
    node()
    const { provider } = setup({ endpoints: ['http://a'] })
    const messages: unknown[] = []
    provider.on('message', (m) => messages.push(m))
    const id = await provider.request({ method: 'eth_subscribe', params: ['newHeads'] })
    expect(id).toBe('0x1')
    await vi.advanceTimersByTimeAsync(1_100)
    head.n = 0x12
    await vi.advanceTimersByTimeAsync(1_100)
    // The pool's subscription starts from the head it finds (a node's would wait for the next one).
    expect(messages).toEqual([0x10, 0x11, 0x12].map((n) => ({ type: 'eth_subscription', data: { subscription: '0x1', result: expect.objectContaining(scriptedBlock(n)) } })))
    await expect(provider.request({ method: 'eth_unsubscribe', params: [id] })).resolves.toBe(true)
    await expect(provider.request({ method: 'eth_unsubscribe', params: [id] })).resolves.toBe(false)
    head.n = 0x13
    await vi.advanceTimersByTimeAsync(2_000)
    expect(messages).toHaveLength(3)
    // A second subscription gets its own id.
    await expect(provider.request({ method: 'eth_subscribe', params: ['newHeads'] })).resolves.toBe('0x2')
  })

  it('refuses what the pool cannot subscribe to with -32602, and an invalid log filter too', async () => {
    node()
    const { provider } = setup({ endpoints: ['http://a'] })
    expect(await rejection(provider.request({ method: 'eth_subscribe', params: ['newPendingTransactions'] }))).toMatchObject({ code: -32602 })
    expect(await rejection(provider.request({ method: 'eth_subscribe', params: ['logs', 'everything'] }))).toMatchObject({ code: -32602 })
    expect(await rejection(provider.request({ method: 'eth_subscribe', params: ['logs', { adress: COUNTER }] }))).toMatchObject({ code: -32602 })
  })
})
