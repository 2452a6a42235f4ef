import { Wallet } from 'ethers'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryOutboxStorage, createOutbox, createPool, type Outbox, type OutboxEntry, type OutboxState, type OutboxStorage, type Pool } from '../../src/index.js'
import { start } from '../support/async.js'
import { createFakeFetch, type Behaviour, type FakeFetch, type FetchCall } from '../support/fakeFetch.js'

// The outbox against a scripted two-endpoint chain with fake timers: broadcasts, receipts, nonces,
// reorgs and outages are all the test's to decide.

const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const wallet = new Wallet(KEY)
const hex = (n: number | bigint) => `0x${n.toString(16)}`
const blockHash = (n: number, fork = 'a') => `0x${fork.repeat(2)}${n.toString(16).padStart(62, '0')}`

let signed: string
let hash: string

beforeAll(async () => {
  signed = await wallet.signTransaction({ to: '0x000000000000000000000000000000000000dEaD', value: 1n, nonce: 7, gasLimit: 21_000n, gasPrice: 1_000_000_000n, chainId: 1n })
  const { Transaction } = await import('ethers')
  hash = Transaction.from(signed).hash!
})

/** What the scripted nodes know. */
const chain = {
  head: 100,
  fork: 'a',
  /** Block our transaction is in, if mined. */
  minedAt: undefined as number | undefined,
  /** Block where another transaction used nonce 7, if any. */
  replacedAt: undefined as number | undefined,
  /** Hosts that are down (network errors). */
  down: new Set<string>(),
  /** Mempools per host. */
  mempool: new Map<string, Set<string>>(),
  /** How a host answers eth_sendRawTransaction when it does not have the transaction: accept, or this refusal. */
  refuse: undefined as string | undefined,
}

function node(call: FetchCall): Behaviour {
  if (chain.down.has(call.host)) return { kind: 'network' }
  const pool = chain.mempool.get(call.host) ?? new Set<string>()
  chain.mempool.set(call.host, pool)
  const nonceUsedAt = chain.minedAt ?? chain.replacedAt
  switch (call.method) {
    case 'eth_sendRawTransaction':
      if (nonceUsedAt !== undefined) return { kind: 'rpcError', code: -32000, message: 'nonce too low' }
      if (pool.has(hash)) return { kind: 'rpcError', code: -32000, message: 'already known' }
      if (chain.refuse) return { kind: 'rpcError', code: -32000, message: chain.refuse }
      pool.add(hash)
      return { kind: 'ok', result: hash }
    case 'eth_getTransactionReceipt':
      return { kind: 'ok', result: chain.minedAt === undefined ? null : { transactionHash: hash, blockHash: blockHash(chain.minedAt, chain.fork), blockNumber: hex(chain.minedAt), status: '0x1' } }
    case 'eth_getTransactionByHash':
      return { kind: 'ok', result: chain.minedAt !== undefined || pool.has(hash) ? { hash } : null }
    case 'eth_getBlockByNumber': {
      const n = Number(call.params[0])
      return { kind: 'ok', result: n <= chain.head ? { number: hex(n), hash: blockHash(n, chain.fork) } : null }
    }
    case 'eth_blockNumber':
      return { kind: 'ok', result: hex(chain.head) }
    case 'eth_getTransactionCount': {
      const tag = call.params[1] as string
      const at = tag === 'latest' || tag === 'pending' ? chain.head : Number(tag)
      return { kind: 'ok', result: hex(nonceUsedAt !== undefined && nonceUsedAt <= at ? 8 : 7) }
    }
    default:
      return { kind: 'rpcError', code: -32601, message: 'method not found' }
  }
}

let fake: FakeFetch
let pool: Pool
let outbox: Outbox | undefined

beforeEach(() => {
  vi.useFakeTimers()
  Object.assign(chain, { head: 100, fork: 'a', minedAt: undefined, replacedAt: undefined, down: new Set(), mempool: new Map(), refuse: undefined })
  fake = createFakeFetch()
  fake.set('a', node)
  fake.set('b', node)
  pool = createPool({ endpoints: ['http://a', 'http://b'], fetch: fake.fetch, random: () => 0, heartbeat: false, hedge: false, dedupe: false, retries: 1, defaultTimeout: 5_000 })
})

afterEach(async () => {
  outbox?.close()
  outbox = undefined
  await pool.destroy()
  // Anything settling on the way out (aborted requests) runs before the count.
  await vi.advanceTimersByTimeAsync(0)
  expect(vi.getTimerCount()).toBe(0)
  vi.useRealTimers()
})

const broadcasts = () => fake.calls.filter((c) => c.method === 'eth_sendRawTransaction').length

function makeOutbox(options: Parameters<typeof createOutbox>[1] = {}) {
  const states: OutboxState[] = []
  outbox = createOutbox(pool, { rebroadcastInterval: 10_000, pollInterval: 1_000, dropAfter: 30_000, ...options })
  outbox.on('state', (e) => {
    expect(e.hash).toBe(hash)
    states.push(e.state)
  })
  return { outbox, states, statuses: () => states.map((s) => s.status) }
}

describe('createOutbox', () => {
  it('queued → accepted by each endpoint → mined → confirmed, and stops broadcasting once mined', async () => {
    const { outbox, states, statuses } = makeOutbox()
    const handle = await outbox.send(signed, { confirmations: 2 })
    expect(handle).toMatchObject({ hash, from: wallet.address, nonce: 7 })
    await vi.advanceTimersByTimeAsync(0)
    expect(states.slice(0, 3)).toEqual([
      { status: 'queued' },
      { status: 'accepted', endpoints: ['http://a:80#0'], count: 1 },
      { status: 'accepted', endpoints: ['http://a:80#0', 'http://b:80#1'], count: 2 },
    ])
    chain.head = 101
    chain.minedAt = 101
    await vi.advanceTimersByTimeAsync(1_000)
    expect(handle.state).toMatchObject({ status: 'mined', blockNumber: 101n, confirmations: 1n })
    const sent = broadcasts()
    chain.head = 102
    await vi.advanceTimersByTimeAsync(1_000)
    const final = await handle.done
    expect(final).toMatchObject({ status: 'confirmed', blockNumber: 101n, confirmations: 2n, reverted: false })
    // Mined at each new depth, then confirmed.
    expect(statuses()).toEqual(['queued', 'accepted', 'accepted', 'mined', 'mined', 'confirmed'])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(broadcasts()).toBe(sent)
  })

  it('records an endpoint that accepts after the broadcast round resolved', async () => {
    fake.set('b', (call) => (call.method === 'eth_sendRawTransaction' && !chain.mempool.get('b')?.has(hash) ? (chain.mempool.set('b', new Set([hash])), { kind: 'ok', result: hash, delay: 300 }) : node(call)))
    const { outbox, states } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: ['http://a:80#0'], count: 1 })
    await vi.advanceTimersByTimeAsync(300)
    expect(states.at(-1)).toEqual({ status: 'accepted', endpoints: ['http://a:80#0', 'http://b:80#1'], count: 2 })
  })

  it('counts an acceptance through the pool\'s routing, whose endpoint is unknown, once', async () => {
    // Each endpoint fails its first broadcast, so the round's second try goes through the routing.
    const failed = new Set<string>()
    for (const host of ['a', 'b']) {
      fake.set(host, (call) => (call.method === 'eth_sendRawTransaction' && !failed.has(host) ? (failed.add(host), { kind: 'network' }) : node(call)))
    }
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: [], count: 1 })
    // The next round hears both endpoints by name ("already known" from the one the routing reached).
    await vi.advanceTimersByTimeAsync(10_000)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: ['http://a:80#0', 'http://b:80#1'], count: 2 })
  })

  it('survives every endpoint being down: re-broadcasts on its interval and is accepted once one is back', async () => {
    chain.down = new Set(['a', 'b'])
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(35_000)
    expect(statuses()).toEqual(['queued'])
    const rounds = broadcasts()
    // A first round plus one per interval (each round tries both endpoints, then once through the routing).
    expect(rounds).toBeGreaterThanOrEqual(4)
    chain.down.delete('b')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: ['http://b:80#1'], count: 1 })
    chain.minedAt = chain.head = 101
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'confirmed', blockNumber: 101n })
  })

  it('reports a reorged transaction as pending again and broadcasts it again', async () => {
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed, { confirmations: 3 })
    await vi.advanceTimersByTimeAsync(0)
    chain.minedAt = chain.head = 101
    await vi.advanceTimersByTimeAsync(1_000)
    expect(handle.state.status).toBe('mined')
    // The block is replaced by a fork without the transaction; nodes put it back in their mempools.
    chain.fork = 'b'
    chain.minedAt = undefined
    chain.mempool.clear()
    const before = broadcasts()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(handle.state).toMatchObject({ status: 'accepted' })
    expect(statuses()).toContain('reorged')
    expect(broadcasts()).toBeGreaterThan(before)
    chain.minedAt = 102
    chain.head = 104
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'confirmed', blockNumber: 102n, blockHash: blockHash(102, 'b') })
  })

  it('reports replaced once another transaction with its nonce is confirmations deep', async () => {
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed, { confirmations: 2 })
    await vi.advanceTimersByTimeAsync(0)
    chain.replacedAt = chain.head = 101
    await vi.advanceTimersByTimeAsync(10_000)
    // Only 1 deep: not final yet.
    expect(handle.state.status).toBe('accepted')
    chain.head = 102
    await vi.advanceTimersByTimeAsync(10_000)
    await expect(handle.done).resolves.toEqual({ status: 'replaced', nonce: 7 })
    expect(statuses().at(-1)).toBe('replaced')
  })

  it('reports dropped after dropAfter ms of refusals while its nonce is unused, not before', async () => {
    chain.refuse = 'insufficient funds for gas * price + value'
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(25_000)
    expect(statuses()).toEqual(['queued'])
    await vi.advanceTimersByTimeAsync(10_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'dropped', reason: expect.stringContaining('insufficient funds') })
  })

  it('an acceptance resets the drop clock', async () => {
    chain.refuse = 'replacement transaction underpriced'
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(25_000)
    chain.refuse = undefined
    await vi.advanceTimersByTimeAsync(10_000)
    expect(handle.state.status).toBe('accepted')
    chain.refuse = 'replacement transaction underpriced'
    chain.mempool.clear()
    await vi.advanceTimersByTimeAsync(25_000)
    expect(handle.state.status).toBe('accepted')
    await vi.advanceTimersByTimeAsync(10_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'dropped' })
  })

  it('expires at its deadline, naming the last state', async () => {
    chain.down = new Set(['a', 'b'])
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed, { timeout: 20_000 })
    await vi.advanceTimersByTimeAsync(19_999)
    expect(handle.state.status).toBe('queued')
    await vi.advanceTimersByTimeAsync(1)
    await expect(handle.done).resolves.toEqual({ status: 'expired', last: 'queued' })
  })

  it('persists every state and resumes after a restart; a final state leaves the storage', async () => {
    const saved = new Map<string, OutboxEntry>()
    const storage: OutboxStorage = {
      load: async () => [...saved.values()].map((e) => JSON.parse(JSON.stringify(e)) as OutboxEntry),
      save: async (e) => void saved.set(e.hash, JSON.parse(JSON.stringify(e)) as OutboxEntry),
      remove: async (h) => void saved.delete(h),
    }
    const first = makeOutbox({ storage }).outbox
    const handle = await first.send(signed, { confirmations: 1, deadline: Date.now() + 60_000 })
    expect(saved.get(hash)).toMatchObject({ hash, raw: signed, from: wallet.address, nonce: 7, confirmations: 1, status: 'queued' })
    await vi.advanceTimersByTimeAsync(0)
    expect(saved.get(hash)?.status).toBe('accepted')
    first.close()
    await expect(handle.done).rejects.toMatchObject({ code: 'ABORTED' })
    expect(saved.has(hash)).toBe(true)

    chain.minedAt = chain.head = 101
    const second = makeOutbox({ storage })
    const [resumed] = await second.outbox.resume()
    expect(resumed!.hash).toBe(hash)
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(resumed!.done).resolves.toMatchObject({ status: 'confirmed' })
    await vi.advanceTimersByTimeAsync(0)
    expect(saved.size).toBe(0)
  })

  it('rejects POOL_DESTROYED once the pool is destroyed, keeping the stored entry', async () => {
    const storage = createMemoryOutboxStorage()
    const { outbox } = makeOutbox({ storage })
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    await pool.destroy()
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(handle.done).rejects.toMatchObject({ code: 'POOL_DESTROYED' })
    expect((await storage.load()).map((e) => e.hash)).toEqual([hash])
  })

  it('sending the same bytes twice tracks them once', async () => {
    const { outbox } = makeOutbox()
    const [one, two] = await Promise.all([outbox.send(signed), outbox.send(signed)])
    expect(one).toBe(two)
    expect(outbox.get(hash)).toBe(one)
  })

  it('an aborted send stops, rejects ABORTED and leaves the storage; close leaves no timer and no unhandled rejection', async () => {
    const storage = createMemoryOutboxStorage()
    const { outbox } = makeOutbox({ storage })
    const controller = new AbortController()
    const handle = await outbox.send(signed, { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(0)
    controller.abort(new Error('user'))
    await expect(handle.done).rejects.toMatchObject({ code: 'ABORTED' })
    await vi.advanceTimersByTimeAsync(0)
    expect(await storage.load()).toEqual([])
    const sent = broadcasts()
    await vi.advanceTimersByTimeAsync(30_000)
    expect(broadcasts()).toBe(sent)

    chain.down = new Set(['a', 'b'])
    const other = await wallet.signTransaction({ to: wallet.address, nonce: 8, gasLimit: 21_000n, gasPrice: 1n, chainId: 1n })
    const run = start((await outbox.send(other)).done)
    outbox.close()
    await run.done
    expect(run.outcome.error).toMatchObject({ code: 'ABORTED' })
    await expect(outbox.send(signed)).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('close() leaves no timer: not the deadline, the next round, the watcher\'s wait nor a broadcast still in flight', async () => {
    const idle = vi.getTimerCount()
    fake.set('b', (call) => (call.method === 'eth_sendRawTransaction' ? { kind: 'hang' } : call.method === 'eth_getTransactionReceipt' ? { kind: 'rpcError', code: -32000, message: 'backend unavailable' } : node(call)))
    fake.set('a', (call) => (call.method === 'eth_getTransactionReceipt' ? { kind: 'rpcError', code: -32000, message: 'backend unavailable' } : node(call)))
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed, { timeout: 60_000 })
    await vi.advanceTimersByTimeAsync(500)
    expect(handle.state.status).toBe('accepted')
    const hanging = fake.calls.filter((c) => c.method === 'eth_sendRawTransaction' && c.host === 'b')
    expect(hanging.map((c) => c.signal.aborted)).toEqual([false])
    expect(vi.getTimerCount()).toBeGreaterThan(idle)
    outbox.close()
    await vi.advanceTimersByTimeAsync(0)
    expect(hanging[0]!.signal.aborted).toBe(true)
    // Once the pool's own timers go too, with no time passed, nothing of the outbox may be left.
    await pool.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a throwing listener or storage is reported as an error event, and the transaction lives on', async () => {
    const errors: unknown[] = []
    const storage: OutboxStorage = { load: () => [], save: () => Promise.reject(new Error('disk full')), remove: () => undefined }
    const { outbox } = makeOutbox({ storage, onState: () => { throw new Error('listener bug') } })
    outbox.on('error', (e) => errors.push(e))
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(handle.state.status).toBe('accepted')
    expect(errors.map((e) => (e as Error).message)).toEqual(expect.arrayContaining(['disk full', 'listener bug']))
  })

  it('once hears one event; a throwing state listener is reported as an error event and the others still hear it', async () => {
    const { outbox, statuses } = makeOutbox()
    const first: string[] = []
    const errors: unknown[] = []
    outbox.once('state', (e) => first.push(e.state.status))
    outbox.on('state', () => {
      throw new Error('listener bug')
    })
    outbox.on('error', (e) => errors.push(e))
    await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(first).toEqual(['queued'])
    expect(statuses()).toEqual(['queued', 'accepted', 'accepted'])
    expect(errors).toEqual([new Error('listener bug'), new Error('listener bug'), new Error('listener bug')])
  })

  it('an abort while the first save is under way stops the send: ABORTED, nothing broadcast or stored', async () => {
    let release!: () => void
    const saved = new Map<string, OutboxEntry>()
    const storage: OutboxStorage = {
      load: () => [...saved.values()],
      save: async (e) => {
        await new Promise<void>((r) => (release = r))
        saved.set(e.hash, e)
      },
      remove: (h) => void saved.delete(h),
    }
    const { outbox } = makeOutbox({ storage })
    const controller = new AbortController()
    const sending = start(outbox.send(signed, { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(0)
    controller.abort(new Error('user'))
    release()
    await sending.done
    expect(sending.outcome.error).toMatchObject({ code: 'ABORTED' })
    await vi.advanceTimersByTimeAsync(30_000)
    expect(outbox.get(hash)).toBeUndefined()
    expect(broadcasts()).toBe(0)
    expect(saved.size).toBe(0)
  })

  it('rejects what is not a signed transaction, and bad options', async () => {
    const { outbox } = makeOutbox()
    await expect(outbox.send('0x1234')).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(outbox.send('nope')).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(outbox.send(signed, { confirmations: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'confirmations' })
    expect(() => createOutbox(pool, { rebroadcastInterval: 0 })).toThrow(/rebroadcastInterval/)
    expect(() => createOutbox(pool, { storage: {} as OutboxStorage })).toThrow(/storage\.load/)
  })
})
