import { beforeEach, describe, expect, it, vi } from 'vitest'
import { isResilientRpcError, type PoolOptions } from '../../src/index.js'
import { createFilterEmulator, type FilterEmulator, type FilterOptions } from '../../src/filters/filters.js'
import type { Behaviour, FakeFetch, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// The filter emulation over a real pool whose endpoints are a scripted chain (fake fetch): which reads
// it makes, what it delivers, and that no failure loses or repeats a log.

const hex = (n: bigint | number) => `0x${n.toString(16)}`
const hashOf = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`
const ADDRESS = '0x5fbdb2315678afecb367f032d93f642f64180aa3'

type ChainLog = { blockNumber: string; blockHash: string; logIndex: string; transactionHash: string; address: string }
type LogQuery = { fromBlock?: string; toBlock?: string; blockHash?: string; address?: string }

/** A chain every endpoint agrees on: a head, logs by block, and what each host should do instead. */
function createChain(head: bigint) {
  const chain = {
    head,
    logs: [] as ChainLog[],
    /** Adds one log in `block` and returns its id (`block:index`). */
    emit(block: bigint): string {
      const index = chain.logs.filter((l) => l.blockNumber === hex(block)).length
      chain.logs.push({ blockNumber: hex(block), blockHash: hashOf(block), logIndex: hex(index), transactionHash: hashOf(block * 1000n + BigInt(index)), address: ADDRESS })
      return `${block}:${index}`
    },
    answer(call: FetchCall): Behaviour {
      switch (call.method) {
        case 'eth_blockNumber':
          return { kind: 'ok', result: hex(chain.head) }
        case 'eth_getBlockByNumber': {
          const n = BigInt(call.params[0] as string)
          return { kind: 'ok', result: n <= chain.head ? { number: hex(n), hash: hashOf(n) } : null }
        }
        case 'eth_getLogs': {
          const q = call.params[0] as LogQuery
          const [from, to] = q.blockHash ? [BigInt(q.blockHash), BigInt(q.blockHash)] : [BigInt(q.fromBlock ?? hex(chain.head)), BigInt(q.toBlock ?? hex(chain.head))]
          return { kind: 'ok', result: chain.logs.filter((l) => BigInt(l.blockNumber) >= from && BigInt(l.blockNumber) <= to && BigInt(l.blockNumber) <= chain.head) }
        }
        default:
          return { kind: 'rpcError', code: -32601, message: `the method ${call.method} does not exist/is not available` }
      }
    },
  }
  return chain
}

const ids = (logs: unknown) => (logs as ChainLog[]).map((l) => `${BigInt(l.blockNumber)}:${BigInt(l.logIndex)}`)
const logQueries = (fake: FakeFetch) => fake.calls.filter((c) => c.method === 'eth_getLogs').map((c) => c.params[0] as LogQuery)

const { fake, makePool, lastPool } = useFakePool({ endpoints: ['http://a', 'http://b'], heartbeat: false, random: () => 0, retries: 1, backoff: { initial: 1 } })
let chain: ReturnType<typeof createChain>

function setup(options: FilterOptions = {}, poolOptions: Partial<PoolOptions> = {}): FilterEmulator {
  return createFilterEmulator(makePool(poolOptions), options)
}

beforeEach(() => {
  chain = createChain(10n)
  for (const host of ['a', 'b']) fake.set(host, (call) => chain.answer(call))
})

describe('log filters', () => {
  it('without fromBlock, reports the logs of blocks after the head at creation, each once', async () => {
    const filters = setup()
    chain.emit(10n)
    const id = await filters.request('eth_newFilter', [{ address: ADDRESS }])
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
    chain.head = 12n
    const expected = [chain.emit(11n), chain.emit(12n), chain.emit(12n)]
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual(expected)
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
    // Pinned, numeric ranges: every endpoint that has the blocks may serve them.
    expect(logQueries(fake)).toEqual([
      { address: ADDRESS, fromBlock: '0xb', toBlock: '0xc' },
    ])
  })

  it('a numeric fromBlock in the past delivers the backlog first, maxBlockRange blocks per poll', async () => {
    const filters = setup({ maxBlockRange: 4 })
    const expected = [2n, 5n, 6n, 9n, 10n].map((b) => chain.emit(b))
    const id = await filters.request('eth_newFilter', [{ fromBlock: '0x1' }])
    const polls = [await filters.request('eth_getFilterChanges', [id]), await filters.request('eth_getFilterChanges', [id]), await filters.request('eth_getFilterChanges', [id])]
    expect(polls.map(ids)).toEqual([[expected[0]], expected.slice(1, 3), expected.slice(3)])
    expect(logQueries(fake).map((q) => [q.fromBlock, q.toBlock])).toEqual([['0x1', '0x4'], ['0x5', '0x8'], ['0x9', '0xa']])
  })

  it('stops at a numeric toBlock', async () => {
    const filters = setup()
    chain.emit(3n)
    const late = chain.emit(9n)
    const id = await filters.request('eth_newFilter', [{ fromBlock: '0x4', toBlock: '0x9' }])
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual([late])
    chain.head = 20n
    chain.emit(15n)
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
    expect(logQueries(fake)).toHaveLength(1)
  })

  it('a failed poll moves nothing: the next poll delivers the same range, once', async () => {
    const filters = setup()
    const id = await filters.request('eth_newFilter', [{}])
    chain.head = 11n
    const expected = chain.emit(11n)
    for (const host of ['a', 'b']) fake.set(host, (call) => (call.method === 'eth_getLogs' ? { kind: 'status', status: 502 } : chain.answer(call)))
    const error = await filters.request('eth_getFilterChanges', [id]).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'RETRIES_EXHAUSTED')).toBe(true)
    for (const host of ['a', 'b']) fake.set(host, (call) => chain.answer(call))
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual([expected])
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
  })

  it('an endpoint failing mid-poll is failed over inside the poll: every log once', async () => {
    const filters = setup()
    const id = await filters.request('eth_newFilter', [{}])
    chain.head = 13n
    const expected = [chain.emit(12n), chain.emit(13n)]
    fake.set('a', { kind: 'network' })
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual(expected)
    fake.set('a', (call) => chain.answer(call))
    fake.set('b', { kind: 'network' })
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
  })

  it('halves the range while nodes refuse it (even with a code the pool retries), and delivers everything', async () => {
    // -32005 also means "rate limited" to the pool, which cools the endpoint down: not in this test.
    const filters = setup({}, { rateLimitCooldown: 0 })
    const expected = [1n, 2n, 3n, 4n, 5n, 6n].map((b) => chain.emit(b))
    const refuseWide = (call: FetchCall): Behaviour => {
      const q = call.params[0] as LogQuery
      if (call.method === 'eth_getLogs' && BigInt(q.toBlock!) - BigInt(q.fromBlock!) >= 3n) return { kind: 'rpcError', code: -32005, message: 'query returned more than 10000 results' }
      return chain.answer(call)
    }
    for (const host of ['a', 'b']) fake.set(host, refuseWide)
    const id = await filters.request('eth_newFilter', [{ fromBlock: '0x1', toBlock: '0x6' }])
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual(expected)
    // A rate limit is not a range problem: no halving for it.
    const id2 = await filters.request('eth_newFilter', [{ fromBlock: '0x1', toBlock: '0x6' }])
    for (const host of ['a', 'b']) fake.set(host, (call) => (call.method === 'eth_getLogs' ? { kind: 'rpcError', code: -32005, message: 'rate limit exceeded' } : chain.answer(call)))
    const before = logQueries(fake).length
    expect(await filters.request('eth_getFilterChanges', [id2]).catch((e: unknown) => e)).toMatchObject({ code: 'RETRIES_EXHAUSTED' })
    expect(logQueries(fake).slice(before).every((q) => q.fromBlock === '0x1' && q.toBlock === '0x6')).toBe(true)
    const answered = fake.calls.filter((c) => c.method === 'eth_getLogs' && BigInt((c.params[0] as LogQuery).toBlock!) - BigInt((c.params[0] as LogQuery).fromBlock!) < 3n)
    expect(answered.map((c) => [(c.params[0] as LogQuery).fromBlock, (c.params[0] as LogQuery).toBlock])).toEqual([['0x1', '0x3'], ['0x4', '0x6']])
  })

  it('halves on HTTP 413 too; an error a smaller range would not fix fails the poll at once', async () => {
    const filters = setup()
    const expected = [1n, 4n].map((b) => chain.emit(b))
    const refuse = (answer: Behaviour) => (call: FetchCall): Behaviour => {
      const q = call.params[0] as LogQuery
      if (call.method === 'eth_getLogs' && BigInt(q.toBlock!) - BigInt(q.fromBlock!) >= 2n) return answer
      return chain.answer(call)
    }
    for (const host of ['a', 'b']) fake.set(host, refuse({ kind: 'status', status: 413 }))
    const id = await filters.request('eth_newFilter', [{ fromBlock: '0x1', toBlock: '0x4' }])
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual(expected)
    const id2 = await filters.request('eth_newFilter', [{ fromBlock: '0x1', toBlock: '0x4' }])
    for (const host of ['a', 'b']) fake.set(host, refuse({ kind: 'rpcError', code: -32602, message: 'invalid params: unknown field' }))
    const before = logQueries(fake).length
    expect(await filters.request('eth_getFilterChanges', [id2]).catch((e: unknown) => e)).toMatchObject({ code: 'RPC_ERROR', rpcCode: -32602 })
    expect(logQueries(fake).slice(before).map((q) => [q.fromBlock, q.toBlock])).toEqual([['0x1', '0x4']])
  })

  it('delivers what was read before a later chunk failed; the rest comes next poll', async () => {
    const filters = setup()
    const expected = [1n, 2n, 4n].map((b) => chain.emit(b))
    let failSecond = true
    const flaky = (call: FetchCall): Behaviour => {
      const q = call.params[0] as LogQuery
      if (call.method !== 'eth_getLogs') return chain.answer(call)
      if (BigInt(q.toBlock!) - BigInt(q.fromBlock!) >= 2n) return { kind: 'rpcError', code: -32000, message: 'block range too large' }
      if (failSecond && q.fromBlock === '0x3') return { kind: 'status', status: 503 }
      return chain.answer(call)
    }
    for (const host of ['a', 'b']) fake.set(host, flaky)
    const id = await filters.request('eth_newFilter', [{ fromBlock: '0x1', toBlock: '0x4' }])
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual(expected.slice(0, 2))
    failSecond = false
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual(expected.slice(2))
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
  })

  it('concurrent polls of one filter never read the same range twice', async () => {
    const filters = setup()
    const id = await filters.request('eth_newFilter', [{}])
    chain.head = 12n
    const expected = [chain.emit(11n), chain.emit(12n)]
    const polls = await Promise.all([1, 2, 3].map(() => filters.request('eth_getFilterChanges', [id])))
    expect(polls.flatMap(ids)).toEqual(expected)
  })

  it('eth_getFilterLogs runs the filter as given', async () => {
    const filters = setup()
    const expected = [chain.emit(4n), chain.emit(5n)]
    const criteria = { address: ADDRESS, fromBlock: '0x3', toBlock: '0x5' }
    const id = await filters.request('eth_newFilter', [criteria])
    expect(ids(await filters.request('eth_getFilterLogs', [id]))).toEqual(expected)
    expect(logQueries(fake)).toEqual([criteria])
  })

  it('reads blocks newer than the reference head one by one, by hash', async () => {
    // A scripted pool: the reference head (what two endpoints vouch for) trails the served head.
    const requests: Array<[string, unknown[]]> = []
    let reference = 11n
    const scripted = {
      referenceHead: () => reference,
      async request<T>(method: string, params: readonly unknown[] = []): Promise<T> {
        requests.push([method, [...params]])
        const b = chain.answer({ method, params: [...params] } as FetchCall)
        return (b as { result: unknown }).result as T
      },
    }
    const filters = createFilterEmulator(scripted)
    const id = await filters.request('eth_newFilter', [{}])
    chain.head = 13n
    const expected = [chain.emit(11n), chain.emit(12n), chain.emit(13n)]
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual(expected)
    expect(requests.filter(([m]) => m === 'eth_getLogs' || m === 'eth_getBlockByNumber').map(([m, p]) => `${m} ${JSON.stringify(p[0])}`)).toEqual([
      'eth_getLogs {"fromBlock":"0xb","toBlock":"0xb"}',
      'eth_getBlockByNumber "0xc"',
      `eth_getLogs {"blockHash":"${hashOf(12n)}"}`,
      'eth_getBlockByNumber "0xd"',
      `eth_getLogs {"blockHash":"${hashOf(13n)}"}`,
    ])
    // A block the endpoint asked does not have yet ends the poll; it is read on the next one.
    reference = 13n
    chain.head = 15n
    const next = [chain.emit(14n), chain.emit(15n)]
    const answer = scripted.request.bind(scripted)
    let missing = true
    scripted.request = async <T>(method: string, params: readonly unknown[] = []): Promise<T> => {
      if (method === 'eth_getBlockByNumber' && params[0] === '0xf' && missing) return null as T
      return answer<T>(method, params)
    }
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual([next[0]])
    missing = false
    expect(ids(await filters.request('eth_getFilterChanges', [id]))).toEqual([next[1]])
  })

  it('rewinds after a rollback, so re-mined blocks are read again', async () => {
    let head = 10n
    const scripted = {
      referenceHead: () => undefined,
      async request<T>(method: string, params: readonly unknown[] = []): Promise<T> {
        if (method === 'eth_blockNumber') return hex(head) as T
        const q = params[0] as LogQuery
        return [{ blockNumber: q.fromBlock, logIndex: '0x0', to: q.toBlock }] as T
      },
    }
    const filters = createFilterEmulator(scripted)
    const id = await filters.request('eth_newFilter', [{}])
    head = 14n
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([{ blockNumber: '0xb', logIndex: '0x0', to: '0xe' }])
    head = 12n // the chain went back: blocks 13 and 14 are gone and will be mined again
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
    head = 14n
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([{ blockNumber: '0xd', logIndex: '0x0', to: '0xe' }])
  })
})

describe('block filters', () => {
  it('reports the hashes of new blocks, each once', async () => {
    const filters = setup()
    const id = await filters.request('eth_newBlockFilter', [])
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
    chain.head = 13n
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([hashOf(11n), hashOf(12n), hashOf(13n)])
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([])
  })

  it('stops at a block the endpoint does not have, and catches up at most 100 blocks per poll', async () => {
    const filters = setup()
    const id = await filters.request('eth_newBlockFilter', [])
    chain.head = 12n
    fake.set('a', (call) => (call.method === 'eth_getBlockByNumber' && call.params[0] === '0xc' ? { kind: 'ok', result: null } : chain.answer(call)))
    fake.set('b', (call) => (call.method === 'eth_getBlockByNumber' && call.params[0] === '0xc' ? { kind: 'ok', result: null } : chain.answer(call)))
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([hashOf(11n)])
    for (const host of ['a', 'b']) fake.set(host, (call) => chain.answer(call))
    chain.head = 300n
    const hashes = (await filters.request('eth_getFilterChanges', [id])) as string[]
    expect(hashes).toHaveLength(100)
    expect(hashes[0]).toBe(hashOf(12n))
    expect(((await filters.request('eth_getFilterChanges', [id])) as string[])[0]).toBe(hashOf(112n))
  })

  it('delivers the hashes before a failed read; a failure first fails the poll and moves nothing', async () => {
    const filters = setup()
    const id = await filters.request('eth_newBlockFilter', [])
    chain.head = 13n
    let failing = '0xc'
    for (const host of ['a', 'b']) fake.set(host, (call) => (call.method === 'eth_getBlockByNumber' && call.params[0] === failing ? { kind: 'status', status: 502 } : chain.answer(call)))
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([hashOf(11n)])
    expect(await filters.request('eth_getFilterChanges', [id]).catch((e: unknown) => e)).toMatchObject({ code: 'RETRIES_EXHAUSTED' })
    failing = ''
    expect(await filters.request('eth_getFilterChanges', [id])).toEqual([hashOf(12n), hashOf(13n)])
  })
})

describe('filter ids and lifetime', () => {
  it('answers unknown ids like geth, uninstalls, and refuses log reads of block filters', async () => {
    const filters = setup()
    const expectRpc = async (p: Promise<unknown>, code: number, message: RegExp) => {
      const e = await p.catch((error: unknown) => error)
      expect(isResilientRpcError(e, 'RPC_ERROR')).toBe(true)
      expect(e).toMatchObject({ rpcCode: code, rpcMessage: expect.stringMatching(message) })
    }
    await expectRpc(filters.request('eth_getFilterChanges', ['0x1234']), -32000, /^filter not found$/)
    await expectRpc(filters.request('eth_getFilterChanges', [7]), -32602, /filter id/)
    const id = (await filters.request('eth_newBlockFilter', [])) as string
    await expectRpc(filters.request('eth_getFilterLogs', [id]), -32000, /^filter not found$/)
    // Ids are case-insensitive hex, like a node's.
    expect(await filters.request('eth_getFilterChanges', [id.toUpperCase().replace('0X', '0x')])).toEqual([])
    expect(filters.size).toBe(1)
    expect(await filters.request('eth_uninstallFilter', [id])).toBe(true)
    expect(await filters.request('eth_uninstallFilter', [id])).toBe(false)
    await expectRpc(filters.request('eth_getFilterChanges', [id]), -32000, /^filter not found$/)
  })

  it('refuses pending-transaction filters with an unsupported-method error', async () => {
    const filters = setup()
    const e = await filters.request('eth_newPendingTransactionFilter', []).catch((error: unknown) => error)
    expect(e).toMatchObject({ code: 'RPC_ERROR', rpcCode: 4200, rpcMessage: expect.stringMatching(/^the method eth_newPendingTransactionFilter does not exist\/is not available/) })
    expect(fake.calls).toHaveLength(0)
  })

  it('forgets a filter idle for idleTimeout; polling keeps it alive', async () => {
    const filters = setup({ idleTimeout: 1_000 })
    const polled = await filters.request('eth_newFilter', [{}])
    const idle = await filters.request('eth_newFilter', [{}])
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(600)
      await filters.request('eth_getFilterChanges', [polled])
    }
    expect(await filters.request('eth_getFilterChanges', [idle]).catch((e: unknown) => e)).toMatchObject({ rpcMessage: 'filter not found' })
    expect(filters.size).toBe(1)
  })

  it('keeps state per instance: one emulator does not know another one’s filters', async () => {
    const first = setup()
    const second = createFilterEmulator(lastPool())
    const id = await first.request('eth_newFilter', [{}])
    expect(await second.request('eth_getFilterChanges', [id]).catch((e: unknown) => e)).toMatchObject({ rpcMessage: 'filter not found' })
    first.clear()
    expect(first.size).toBe(0)
  })

  it('only handles filter methods', () => {
    const filters = setup()
    expect(['eth_newFilter', 'eth_newBlockFilter', 'eth_newPendingTransactionFilter', 'eth_getFilterChanges', 'eth_getFilterLogs', 'eth_uninstallFilter'].every((m) => filters.handles(m))).toBe(true)
    expect(filters.handles('eth_getLogs')).toBe(false)
    expect(filters.handles('eth_subscribe')).toBe(false)
  })

  it('validates its options', () => {
    setup()
    expect(() => createFilterEmulator(lastPool(), { idleTimeout: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'filters.idleTimeout' }))
    expect(() => createFilterEmulator(lastPool(), { maxBlockRange: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'filters.maxBlockRange' }))
    expect(() => createFilterEmulator(lastPool(), { maxBlockRange: 1.5 })).toThrow('Invalid option `filters.maxBlockRange`: expected an integer >= 1, got 1.5')
    expect(() => createFilterEmulator(lastPool(), null as never)).toThrow('Invalid option `filters`: expected an object, got null')
  })
})
