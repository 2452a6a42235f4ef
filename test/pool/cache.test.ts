import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { blockTarget } from '../../src/balancer/blockTarget.js'
import { createPool, type Pool } from '../../src/index.js'
import { AnswerCache } from '../../src/pool/cache.js'
import { createFakeFetch, type FakeFetch, type FetchCall } from '../support/fakeFetch.js'

describe('AnswerCache', () => {
  const cache = () => new AnswerCache({ finalityDepth: 10, maxEntries: 2 })
  const offer = (c: AnswerCache, key: string, method: string, params: unknown[], result: unknown, head: bigint | undefined) => c.offer(key, method, blockTarget(method, params), result, head)

  it.each([
    { name: 'a read pinned to a final block', method: 'eth_getBalance', params: ['0x1', '0x5a'], result: '0x1', head: 100n, kept: true },
    { name: 'a read pinned to a block not yet final', method: 'eth_getBalance', params: ['0x1', '0x5b'], result: '0x1', head: 100n, kept: false },
    { name: 'a latest read', method: 'eth_getBalance', params: ['0x1', 'latest'], result: '0x1', head: 100n, kept: false },
    { name: 'a receipt in a final block', method: 'eth_getTransactionReceipt', params: ['0xabc'], result: { blockNumber: '0x10' }, head: 100n, kept: true },
    { name: 'a receipt in a recent block', method: 'eth_getTransactionReceipt', params: ['0xabc'], result: { blockNumber: '0x60' }, head: 100n, kept: false },
    { name: 'a missing receipt', method: 'eth_getTransactionReceipt', params: ['0xabc'], result: null, head: 100n, kept: false },
    { name: 'a block by hash, final', method: 'eth_getBlockByHash', params: ['0xabc', false], result: { number: '0x1' }, head: 100n, kept: true },
    { name: 'anything while the head is unknown', method: 'eth_getBalance', params: ['0x1', '0x1'], result: '0x1', head: undefined, kept: false },
  ])('$name: kept $kept', ({ method, params, result, head, kept }) => {
    const c = cache()
    offer(c, 'k', method, params, result, head)
    expect(c.get('k') !== undefined).toBe(kept)
  })

  it('evicts the least recently used entry beyond maxEntries', () => {
    const c = cache()
    offer(c, 'a', 'eth_getBalance', ['0x1', '0x1'], 'A', 100n)
    offer(c, 'b', 'eth_getBalance', ['0x1', '0x1'], 'B', 100n)
    expect(c.get('a')?.value).toBe('A')
    offer(c, 'c', 'eth_getBalance', ['0x1', '0x1'], 'C', 100n)
    expect([c.get('a')?.value, c.get('b'), c.get('c')?.value]).toEqual(['A', undefined, 'C'])
    expect(c.size).toBe(2)
  })
})

describe('through the pool', () => {
  let fake: FakeFetch
  let pool: Pool | undefined
  const node = (call: FetchCall) =>
    call.method === 'eth_chainId' ? { kind: 'ok' as const, result: '0x1' } : call.method === 'eth_blockNumber' ? { kind: 'ok' as const, result: '0x64' } : { kind: 'ok' as const, result: '0xbeef' }

  beforeEach(() => {
    vi.useFakeTimers()
    fake = createFakeFetch({})
    fake.set('a', node)
  })
  afterEach(async () => {
    await pool?.destroy()
    vi.useRealTimers()
  })

  it('answers final pinned reads and the chain id without asking again; clears nothing it should keep', async () => {
    pool = createPool({ endpoints: ['http://a'], fetch: fake.fetch, heartbeat: { interval: 60_000 }, cache: { finalityDepth: 10 } })
    await vi.advanceTimersByTimeAsync(100)
    const reads = () => fake.calls.filter((c) => c.method === 'eth_getBalance').length
    expect(await pool.request('eth_getBalance', ['0x1', '0x5a'])).toBe('0xbeef')
    expect(await pool.request('eth_getBalance', ['0x1', '0x5a'])).toBe('0xbeef')
    expect(reads()).toBe(1)
    await pool.request('eth_getBalance', ['0x1', 'latest'])
    await pool.request('eth_getBalance', ['0x1', 'latest'])
    expect(reads()).toBe(3)
    const chainIds = fake.calls.filter((c) => c.method === 'eth_chainId').length
    expect(await pool.request('eth_chainId')).toBe('0x1')
    expect(fake.calls.filter((c) => c.method === 'eth_chainId')).toHaveLength(chainIds)
  })

  it('cache: false asks every time', async () => {
    pool = createPool({ endpoints: ['http://a'], fetch: fake.fetch, heartbeat: { interval: 60_000 }, cache: false })
    await vi.advanceTimersByTimeAsync(100)
    await pool.request('eth_getBalance', ['0x1', '0x5a'])
    await pool.request('eth_getBalance', ['0x1', '0x5a'])
    expect(fake.calls.filter((c) => c.method === 'eth_getBalance')).toHaveLength(2)
  })
})
