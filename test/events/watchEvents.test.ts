import { Interface } from 'ethers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { NetworkError } from '../../src/errors/endpoint.js'
import { PoolDestroyedError } from '../../src/errors/request.js'
import { watchEvents } from '../../src/events/watchEvents.js'
import type { WatchEventsOptions } from '../../src/events/options.js'
import type { WatchedEvent } from '../../src/events/decoder.js'
import type { Pool } from '../../src/pool/pool.js'
import type { BlockHeader, HeadsSubscribeOptions } from '../../src/subscriptions/subscription.js'
import type { RpcLog } from '../../src/subscriptions/logs.js'
import { counterAbi } from '../fixtures/contracts/counter.js'

const iface = new Interface(counterAbi)
const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const hash = (n: number, branch: string) => `0x${branch.repeat(2)}${n.toString(16).padStart(62, '0')}`

type Block = { number: number; hash: string; parentHash: string; logs: RpcLog[] }

/** An in-memory chain behind a pool-shaped fake: heads are pushed to the subscriber as blocks are mined. */
function fakeChain() {
  const chain: Block[] = [{ number: 0, hash: hash(0, 'a'), parentHash: hash(0, 'f'), logs: [] }]
  const requests: Array<{ method: string; params: readonly unknown[] }> = []
  let listener: ((h: BlockHeader) => void) | undefined
  let subscribeOptions: HeadsSubscribeOptions | undefined
  const header = (b: Block): BlockHeader => ({ number: `0x${b.number.toString(16)}`, hash: b.hash, parentHash: b.parentHash })
  const lifetime = new AbortController()
  /** Errors the next eth_getLogs requests throw, first first. */
  const failures: Error[] = []
  const pool = {
    signal: lifetime.signal,
    subscribe(_kind: 'newHeads', l: (h: BlockHeader) => void, o: HeadsSubscribeOptions) {
      listener = l
      subscribeOptions = o
      const first = chain.at(-1)!
      queueMicrotask(() => chain.at(-1) === first && listener?.(header(first)))
      return () => {
        listener = undefined
      }
    },
    async request(method: string, params: readonly unknown[] = []) {
      requests.push({ method, params })
      await Promise.resolve()
      if (method === 'eth_blockNumber') return `0x${chain.length.toString(16)}`
      if (method === 'eth_getBlockByHash') {
        const b = chain.find((x) => x.hash === params[0])
        return b ? header(b) : null
      }
      if (method === 'eth_getLogs') {
        const failure = failures.shift()
        if (failure) throw failure
        const f = params[0] as { blockHash?: string; fromBlock?: string; toBlock?: string }
        if (f.blockHash !== undefined) return chain.find((b) => b.hash === f.blockHash)?.logs ?? []
        return chain.filter((b) => b.number >= Number(f.fromBlock) && b.number <= Number(f.toBlock)).flatMap((b) => b.logs)
      }
      throw new Error(`unexpected ${method}`)
    },
  }
  const mine = (pings = 0, branch = 'a') => {
    const parent = chain.at(-1)!
    const number = parent.number + 1
    const b: Block = { number, hash: hash(number, branch), parentHash: parent.hash, logs: [] }
    for (let i = 0; i < pings; i++) {
      const { topics, data } = iface.encodeEventLog('Ping', [i, `0x${'00'.repeat(32)}`])
      b.logs.push({ address: ADDRESS, topics, data, blockNumber: `0x${number.toString(16)}`, blockHash: b.hash, transactionHash: hash(number, 'c'), transactionIndex: '0x0', logIndex: `0x${i.toString(16)}` })
    }
    chain.push(b)
    listener?.(header(b))
  }
  return { pool: pool as unknown as Pool, mine, requests, chain, failures, lifetime, listening: () => listener !== undefined, options: () => subscribeOptions }
}

/** Lets every promise chain run to its next wait (each request takes a few microtask hops). */
const flush = async () => {
  for (let i = 0; i < 50; i++) await vi.advanceTimersByTimeAsync(0)
}
const where = (e: WatchedEvent) => `${e.blockNumber}:${e.logIndex}${e.removed ? ':removed' : ''}`

function setup(options: Partial<WatchEventsOptions> = {}, handler?: (e: WatchedEvent) => void | Promise<void>) {
  const fake = fakeChain()
  const events: WatchedEvent[] = []
  const checkpoints: bigint[] = []
  const errors: Array<{ code: string }> = []
  const watcher = watchEvents(
    fake.pool,
    { address: ADDRESS, abi: counterAbi, eventName: 'Ping', onCheckpoint: (b) => void checkpoints.push(b), onError: (e) => errors.push(e), ...options },
    handler ?? ((e) => void events.push(e)),
  )
  return { ...fake, watcher, events, checkpoints, errors }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('watchEvents', () => {
  it('delivers a block once it is `confirmations` deep, and checkpoints each processed block', async () => {
    const t = setup({ confirmations: 2 })
    await flush()
    expect(t.watcher.checkpoint()).toBe(-1n) // 'latest': the confirmed head at start (none yet: before genesis)
    t.mine(2)
    t.mine(0)
    await flush()
    expect(t.events).toEqual([])
    t.mine(1)
    await flush()
    expect(t.events.map(where)).toEqual(['1:0', '1:1'])
    expect(t.checkpoints).toEqual([0n, 1n])
    t.mine(0)
    t.mine(0)
    await flush()
    expect(t.events.map(where)).toEqual(['1:0', '1:1', '3:0'])
    expect(t.checkpoints.at(-1)).toBe(3n)
    expect(t.errors).toEqual([])
    await t.watcher.stop()
  })

  it('backfills from fromBlock by number below the reorg window, then by hash', async () => {
    const t = setup({ fromBlock: 1, reorgWindow: 3, range: 4 })
    for (let i = 0; i < 10; i++) t.mine(i % 3)
    await flush()
    const want = t.chain.flatMap((b) => b.logs.map((_, i) => `${b.number}:${i}`))
    expect(t.events.map(where)).toEqual(want)
    const logs = t.requests.filter((r) => r.method === 'eth_getLogs').map((r) => r.params[0] as Record<string, string>)
    expect(logs.filter((f) => f.fromBlock !== undefined).map((f) => [Number(f.fromBlock), Number(f.toBlock)])).toEqual([
      [1, 4],
      [5, 7],
    ])
    expect(logs.filter((f) => f.blockHash !== undefined)).toHaveLength(3) // blocks 8, 9, 10
    expect(t.checkpoints.at(-1)).toBe(10n)
    await t.watcher.stop()
  })

  it('walks parents by hash to check blocks below the first head it saw, within the reorg window', async () => {
    const fake = fakeChain()
    for (let i = 0; i < 10; i++) fake.mine(1) // before the watcher: its first head is block 10
    const events: WatchedEvent[] = []
    const w = watchEvents(fake.pool, { address: ADDRESS, abi: counterAbi, fromBlock: 5n, confirmations: 1 }, (e) => void events.push(e))
    await flush()
    expect(events.map(where)).toEqual(['5:0', '6:0', '7:0', '8:0', '9:0'])
    // 9 is 10's parent and 5 is 6's: blocks 9…6 were fetched to learn their parents, nothing below.
    expect(fake.requests.filter((r) => r.method === 'eth_getBlockByHash').map((r) => r.params[0])).toEqual([9, 8, 7, 6].map((n) => hash(n, 'a')))
    await w.stop()
  })

  it('a handler that throws is retried with back-off on the same event; the checkpoint waits for it', async () => {
    let failures = 2
    const seen: string[] = []
    const t = setup({ retryBackoff: { initial: 100, max: 100 } }, (e) => {
      seen.push(where(e))
      if (e.blockNumber === 2n && e.logIndex === 1 && failures-- > 0) throw new Error('db down')
    })
    await flush()
    t.mine(1)
    t.mine(3)
    await flush()
    expect(seen).toEqual(['1:0', '2:0', '2:1'])
    expect(t.checkpoints).toEqual([1n])
    expect(t.errors).toMatchObject([{ code: 'HANDLER_FAILED', failures: 1, cause: new Error('db down') }])
    await vi.advanceTimersByTimeAsync(100)
    await vi.advanceTimersByTimeAsync(100)
    expect(seen).toEqual(['1:0', '2:0', '2:1', '2:1', '2:1', '2:2'])
    expect(t.errors).toHaveLength(2)
    expect(t.checkpoints).toEqual([1n, 2n])
    await t.watcher.stop()
  })

  it('a failing fetch is reported and retried with back-off; the pool destroyed ends the watcher unreported', async () => {
    const t = setup({ retryBackoff: { initial: 100, max: 1_000, jitter: 0 } })
    await flush()
    t.failures.push(new NetworkError(), new Error('a bug of ours'))
    t.mine(1)
    await flush()
    expect(t.errors).toMatchObject([{ code: 'NETWORK' }])
    await vi.advanceTimersByTimeAsync(99)
    expect(t.errors).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    // Not ours: reported as a NETWORK error, and retried like any other.
    expect(t.errors).toMatchObject([{ code: 'NETWORK' }, { code: 'NETWORK', cause: new Error('a bug of ours') }])
    await vi.advanceTimersByTimeAsync(200)
    await flush()
    expect(t.events.map(where)).toEqual(['1:0'])
    t.failures.push(new PoolDestroyedError())
    t.mine(1)
    await flush()
    await t.watcher.done
    expect(t.errors).toHaveLength(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('with confirmations 0, a reorg yields removed notices newest first, a lower checkpoint, then the replacements', async () => {
    const t = setup({ confirmations: 0 })
    await flush()
    t.mine(1)
    t.mine(2)
    await flush()
    expect(t.events.map(where)).toEqual(['1:0', '2:0', '2:1'])
    // Block 2 is replaced by 2' (one log) and 3'.
    const gone = t.chain.pop()!
    t.options()!.onReorg!({ ancestor: { number: 1n, hash: t.chain[1]!.hash }, removed: [{ number: 2n, hash: gone.hash }] })
    t.mine(1, 'b')
    t.mine(0, 'b')
    await flush()
    expect(t.events.map(where)).toEqual(['1:0', '2:0', '2:1', '2:1:removed', '2:0:removed', '2:0'])
    expect(t.events.at(-1)!.blockHash).toBe(hash(2, 'b'))
    expect(t.checkpoints).toEqual([1n, 2n, 1n, 2n, 3n])
    await t.watcher.stop()
  })

  it('a slow handler holds back fetching: nothing beyond the block in hand is requested', async () => {
    let release: () => void = () => {}
    const t = setup({ parallel: 1 }, () => new Promise<void>((r) => (release = r)))
    await flush()
    t.mine(1)
    await flush()
    const asked = t.requests.filter((r) => r.method === 'eth_getLogs').length
    for (let i = 0; i < 20; i++) t.mine(5)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(t.requests.filter((r) => r.method === 'eth_getLogs').length).toBe(asked)
    release()
    await flush()
    expect(t.requests.filter((r) => r.method === 'eth_getLogs').length).toBe(asked + 1)
    const stopped = t.watcher.stop()
    release()
    await stopped
  })

  it('stop and an aborted signal leave no timer and no head listener; nothing is handled after', async () => {
    const t = setup({})
    await flush()
    expect(t.listening()).toBe(true)
    await t.watcher.stop()
    expect(t.listening()).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    t.mine(3)
    await flush()
    expect(t.events).toEqual([])

    const controller = new AbortController()
    const u = setup({ signal: controller.signal })
    await flush()
    controller.abort()
    await u.watcher.done
    expect(u.listening()).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('validates its options at once', () => {
    const { pool } = fakeChain()
    const invalid = expect.objectContaining({ code: 'INVALID_OPTION' })
    const h = () => {}
    expect(() => watchEvents(pool, { address: 'nope' }, h)).toThrow(invalid)
    expect(() => watchEvents(pool, {}, h)).toThrow(invalid)
    expect(() => watchEvents(pool, { address: ADDRESS, confirmations: -1 }, h)).toThrow(invalid)
    expect(() => watchEvents(pool, { address: ADDRESS, confirmations: 64 }, h)).toThrow(invalid)
    expect(() => watchEvents(pool, { address: ADDRESS, fromBlock: -1 }, h)).toThrow(invalid)
    expect(() => watchEvents(pool, { address: ADDRESS }, undefined as never)).toThrow(invalid)
  })
})
