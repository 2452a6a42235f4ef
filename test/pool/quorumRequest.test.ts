import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/index.js'
import type { QuorumError } from '../../src/errors/request.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

describe('pool.request with { quorum }', () => {
  const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false })
  const ADDR = '0x00000000000000000000000000000000000000aa'

  /** Every host answers eth_blockNumber 0x10; eth_getBalance as `balances[host]`. */
  function answer(balances: Record<string, Behaviour>) {
    for (const host of Object.keys(balances)) {
      fake.set(host, (call: FetchCall) => (call.method === 'eth_blockNumber' ? { kind: 'ok', result: '0x10' } : balances[host]!))
    }
  }

  it('returns the answer two endpoints agree on, pinning a latest read to one block', async () => {
    answer({ a: { kind: 'ok', result: '0x64' }, b: { kind: 'ok', result: '0x999' }, c: { kind: 'ok', result: '0x64' } })
    const p = makePool()
    await expect(p.request('eth_getBalance', [ADDR, 'latest'], { quorum: 2 })).resolves.toBe('0x64')
    const reads = fake.calls.filter((c) => c.method === 'eth_getBalance')
    // Each endpoint asked once, every one about block 0x10.
    expect(reads.map((c) => c.host).sort()).toEqual(['a', 'b', 'c'])
    expect(reads.every((c) => c.params[1] === '0x10')).toBe(true)
  })

  it('pins an eth_getLogs range that ends at latest to the same block on every endpoint', async () => {
    const logs = { kind: 'ok', result: [] } as const
    answer({ a: logs, b: logs, c: logs })
    const p = makePool()
    await expect(p.request('eth_getLogs', [{ address: ADDR, fromBlock: '0x1', toBlock: 'latest' }], { quorum: 2 })).resolves.toEqual([])
    const reads = fake.calls.filter((c) => c.method === 'eth_getLogs')
    expect(reads.length).toBeGreaterThanOrEqual(2)
    expect(reads.every((c) => JSON.stringify(c.params[0]) === JSON.stringify({ address: ADDR, fromBlock: '0x1', toBlock: '0x10' }))).toBe(true)
  })

  it('never asks one endpoint twice, even the fastest one', async () => {
    // Weighted round-robin with a heavy a would pick a again and again; a's lie must count once.
    answer({ a: { kind: 'ok', result: '0x1' }, b: { kind: 'ok', result: '0x2' }, c: { kind: 'ok', result: '0x3' } })
    const p = makePool({ endpoints: [{ url: 'http://a', weight: 100 }, 'http://b', 'http://c'], strategy: 'weighted-round-robin' })
    const error = await p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 2 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'QUORUM_FAILED' })
    expect(fake.calls.map((c) => c.host).sort()).toEqual(['a', 'b', 'c'])
  })

  it('rejects with QUORUM_FAILED listing each distinct answer and who gave it', async () => {
    answer({ a: { kind: 'ok', result: '0x64' }, b: { kind: 'ok', result: '0x65' }, c: { kind: 'ok', result: '0x66' } })
    const p = makePool()
    const error = (await p.request('eth_getBalance', [ADDR], { quorum: 2 }).catch((e: unknown) => e)) as QuorumError
    expect(isResilientRpcError(error, 'QUORUM_FAILED')).toBe(true)
    expect(error.answers.map((a) => [a.result, a.endpoints]).sort()).toEqual([
      ['0x64', ['http://a:80#0']],
      ['0x65', ['http://b:80#1']],
      ['0x66', ['http://c:80#2']],
    ])
  })

  it('a failing endpoint is replaced by the next; the failure is listed if the read fails', async () => {
    answer({ a: { kind: 'status', status: 500 }, b: { kind: 'ok', result: '0x64' }, c: { kind: 'ok', result: '0x64' } })
    const p = makePool()
    await expect(p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 2 })).resolves.toBe('0x64')
    // Pinned already: no eth_blockNumber asked.
    expect(fake.calls.filter((c) => c.method === 'eth_blockNumber')).toHaveLength(0)
    expect(p.stats().endpoints[0]!.failures).toBe(1)
  })

  it('validates: an integer from 1 to the number of endpoints, reads only', async () => {
    answer({ a: { kind: 'ok' }, b: { kind: 'ok' }, c: { kind: 'ok' } })
    const p = makePool()
    await expect(p.request('eth_getBalance', [ADDR], { quorum: 4 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'quorum' })
    await expect(p.request('eth_getBalance', [ADDR], { quorum: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(p.request('eth_sendRawTransaction', ['0x00'], { quorum: 2 })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    expect(fake.calls).toHaveLength(0)
  })

  it('is bounded by the request deadline, and destroy() ends it', async () => {
    answer({ a: { kind: 'ok', result: '0x64' }, b: { kind: 'hang' }, c: { kind: 'hang' } })
    const p = makePool({ attemptTimeout: 60_000 })
    const read = start(p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 2, timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(1_000)
    await read.done
    expect(read.outcome.error).toMatchObject({ code: 'QUORUM_FAILED', answers: [{ result: '0x64' }] })
    expect(fake.calls.filter((c) => c.method === 'eth_getBalance').every((c) => c.signal.aborted || c.host === 'a')).toBe(true)

    const pending = start(p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 3 }))
    await vi.advanceTimersByTimeAsync(10)
    await p.destroy()
    await pending.done
    expect(pending.outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
  })
})
