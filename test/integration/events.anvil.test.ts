import { Interface } from 'ethers'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPool, watchEvents, type EventWatcher, type Pool, type PoolOptions, type RpcLog, type WatchedEvent, type WatchEventsOptions } from '../../src/index.js'
import { counterAbi, counterBytecode } from '../fixtures/contracts/counter.js'
import { startAnvil, type Anvil } from '../support/anvil.js'
import { resetProxies, waitFor } from '../support/async.js'
import { createFaultProxy, type FaultProxy } from '../support/faultProxy.js'
import { createWsFaultProxy, type WsFaultProxy } from '../support/wsFaultProxy.js'

// watchEvents against anvil through fault proxies: the delivered events are compared with what anvil
// itself returns for the final canonical chain.

const iface = new Interface(counterAbi)
let anvil: Anvil
let ws: WsFaultProxy[]
let http: FaultProxy[]
let pool: Pool | undefined
let watchers: EventWatcher[] = []
let sender: string
let address: string

beforeAll(async () => {
  anvil = await startAnvil()
  ws = await Promise.all([0, 1].map(() => createWsFaultProxy(anvil.url)))
  http = await Promise.all([0, 1].map(() => createFaultProxy(anvil.url)))
  ;[sender] = (await anvil.rpc<string[]>('eth_accounts')) as [string]
})

afterAll(async () => {
  await Promise.all([...ws.map((p) => p.close()), ...http.map((p) => p.close())])
  await anvil.stop()
})

beforeEach(async () => {
  resetProxies(...ws, ...http)
  // A fresh contract per test: its logs are the test's alone.
  address = (await anvil.transact({ from: sender, data: counterBytecode + '0'.repeat(64) })).contractAddress!
})

afterEach(async () => {
  await Promise.all(watchers.map((w) => w.stop()))
  watchers = []
  await pool?.destroy()
  pool = undefined
})

function makePool(options: Partial<PoolOptions> = {}): Pool {
  pool = createPool({
    endpoints: [
      { url: ws[0]!.url, name: 'ws0' },
      { url: ws[1]!.url, name: 'ws1' },
      { url: http[0]!.url, name: 'http0' },
      { url: http[1]!.url, name: 'http1' },
    ],
    chainId: 31337,
    attemptTimeout: 400,
    heartbeat: { interval: 100, timeout: 300 },
    ...options,
  })
  return pool
}

function watch(p: Pool, options: Partial<WatchEventsOptions>, handler: (e: WatchedEvent) => void | Promise<void>): EventWatcher {
  const w = watchEvents(p, { address, abi: counterAbi, eventName: 'Ping', pollInterval: 50, retryBackoff: { initial: 20, max: 200 }, ...options }, handler)
  watchers.push(w)
  return w
}

const ping = async (n: number, tag = 1) => (await anvil.transact({ from: sender, to: address, data: iface.encodeFunctionData('ping', [n, `0x${tag.toString(16).padStart(64, '0')}`]) })).transactionHash
const head = async () => BigInt(await anvil.rpc<string>('eth_blockNumber'))
const deployBlock = async () => BigInt((await anvil.rpc<RpcLog[]>('eth_getLogs', [{ address, fromBlock: '0x0', toBlock: 'latest' }]))[0]?.blockNumber ?? (await head()))
/** What anvil holds for the contract now: the final canonical chain. */
const emitted = () => anvil.rpc<RpcLog[]>('eth_getLogs', [{ address, fromBlock: '0x0', toBlock: 'latest' }])
const key = (l: { blockHash: string; logIndex: string | number; transactionHash: string }) => `${l.blockHash}:${BigInt(l.logIndex)}:${l.transactionHash}`

describe('watchEvents', () => {
  it('delivers thousands of events exactly once and in order while faults rotate across endpoints', async () => {
    const p = makePool()
    await p.ready({ minHealthy: 4, timeout: 5_000 })
    const start = await head()
    // History to backfill: 1,200 events over 12 blocks, spread over 60 blocks.
    for (let i = 0; i < 12; i++) {
      await ping(100, i)
      await anvil.mine(4)
    }
    const events: WatchedEvent[] = []
    const checkpoints: bigint[] = []
    const errors: unknown[] = []
    // A small reorg window and range: the backfill crosses many number ranges, then by-hash blocks.
    watch(p, { fromBlock: start, confirmations: 1, reorgWindow: 8, range: 16, onCheckpoint: (b) => void checkpoints.push(b), onError: (e) => errors.push(e) }, (e) => {
      events.push(e)
    })
    const faults: Array<() => void> = [
      () => (ws[0]!.setMode({ kind: 'drop' }), http[0]!.setMode({ kind: 'hang' })),
      () => (ws[1]!.setMode({ kind: 'drop' }), http[1]!.setMode({ kind: 'stale' })),
      () => (ws[0]!.setMode({ kind: 'silent' }), http[0]!.setMode({ kind: 'http500' })),
      () => (ws[1]!.setMode({ kind: 'drop' }), http[1]!.setMode({ kind: 'hang' })),
      () => (ws[0]!.setMode({ kind: 'drop' }), ws[1]!.setMode({ kind: 'drop' })), // polling only
    ]
    for (let round = 0; round < 20; round++) {
      resetProxies(...ws, ...http)
      faults[round % faults.length]!()
      await ping(100, 100 + round)
      await new Promise((r) => setTimeout(r, 60))
    }
    resetProxies(...ws, ...http)
    await anvil.mine(2)
    const want = await emitted()
    expect(want).toHaveLength(3_200)
    await waitFor(() => events.length >= want.length, `${want.length} events (have ${events.length})`, 30_000)
    await new Promise((r) => setTimeout(r, 200))
    expect(events.map((e) => key(e))).toEqual(want.map(key))
    expect(events.every((e) => e.eventName === 'Ping' && !e.removed && typeof e.args?.i === 'bigint')).toBe(true)
    // Checkpoints only go up (no reorg here) and reach the confirmed head.
    expect(checkpoints).toEqual([...checkpoints].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
    await waitFor(() => checkpoints.at(-1)! >= BigInt(want.at(-1)!.blockNumber), 'the checkpoint past the last event')
  }, 60_000)

  it('with confirmations: 3, a reorg of depth 2 never delivers an event of a reorged block', async () => {
    const p = makePool()
    await p.ready({ minHealthy: 4, timeout: 5_000 })
    const events: WatchedEvent[] = []
    const from = (await head()) + 1n
    watch(p, { fromBlock: from, confirmations: 3 }, (e) => void events.push(e))
    await ping(5, 1)
    await anvil.mine(3)
    await waitFor(() => events.length === 5, 'the first five events')
    // Two blocks with events, reorged out while 0 and 1 deep.
    await ping(4, 2)
    await ping(3, 3)
    const doomed = (await emitted()).filter((l) => BigInt(l.blockNumber) > (events.at(-1)?.blockNumber ?? 0n)).map((l) => l.blockHash)
    expect(doomed).toHaveLength(7)
    await new Promise((r) => setTimeout(r, 300)) // let the watcher see them at the head
    await anvil.rpc('anvil_reorg', [2, []])
    await ping(2, 4)
    await anvil.mine(4)
    const want = await emitted()
    expect(want).toHaveLength(7)
    await waitFor(() => events.length >= want.length, `${want.length} events`)
    await new Promise((r) => setTimeout(r, 300))
    expect(events.map((e) => key(e))).toEqual(want.map(key))
    expect(events.some((e) => doomed.includes(e.blockHash))).toBe(false)
    expect(events.some((e) => e.removed)).toBe(false)
  })

  it('with confirmations: 0, a reorg delivers removed notices (newest first), then the replacements', async () => {
    const p = makePool()
    await p.ready({ minHealthy: 4, timeout: 5_000 })
    const events: WatchedEvent[] = []
    watch(p, { fromBlock: (await head()) + 1n, confirmations: 0 }, (e) => void events.push(e))
    await ping(2, 1)
    await ping(3, 2)
    await waitFor(() => events.length === 5, 'five events at the head')
    const delivered = events.map((e) => key(e))
    await anvil.rpc('anvil_reorg', [1, []])
    await ping(1, 3)
    const want = await emitted()
    expect(want).toHaveLength(3)
    await waitFor(() => events.length === 9, 'three removed notices and the replacement')
    const after = events.slice(5)
    expect(after.slice(0, 3).map((e) => [e.removed, key(e)])).toEqual(delivered.slice(2).reverse().map((k) => [true, k]))
    expect(after[3]!.removed).toBe(false)
    expect(key(after[3]!)).toBe(key(want[2]!))
  })

  it('resumes from a checkpoint: the union of two runs is every event, none twice', async () => {
    const p = makePool()
    await p.ready({ minHealthy: 4, timeout: 5_000 })
    const from = (await head()) + 1n
    for (let i = 0; i < 10; i++) await ping(50, i)
    await anvil.mine(1)
    const want = await emitted()
    expect(want).toHaveLength(500)
    const first: WatchedEvent[] = []
    let saved: bigint | undefined
    const one = watch(p, { fromBlock: from, confirmations: 1, onCheckpoint: (b) => void (saved = b) }, (e) => {
      first.push(e)
      // Stop half-way through a block: its events must come again, the earlier ones must not.
      if (first.length === 225) void one.stop()
    })
    await one.done
    expect(first).toHaveLength(225)
    expect(saved).toBeDefined()
    const second: WatchedEvent[] = []
    watch(p, { fromBlock: saved! + 1n, confirmations: 1 }, (e) => void second.push(e))
    await waitFor(() => second.length >= want.length - first.filter((e) => e.blockNumber <= saved!).length, 'the rest')
    await new Promise((r) => setTimeout(r, 200))
    const kept = first.filter((e) => e.blockNumber <= saved!)
    // Only the block that was half done when the first run stopped is delivered twice.
    expect(new Set(first.filter((e) => e.blockNumber > saved!).map((e) => e.blockNumber))).toEqual(new Set([saved! + 1n]))
    expect([...kept, ...second].map((e) => key(e))).toEqual(want.map(key))
  })

  it('shrinks the range when every endpoint refuses wide eth_getLogs ranges, and completes the backfill', async () => {
    const p = makePool({ endpoints: [{ url: http[0]!.url, name: 'http0' }, { url: http[1]!.url, name: 'http1' }] })
    await p.ready({ minHealthy: 2, timeout: 5_000 })
    const from = await deployBlock()
    for (let i = 0; i < 8; i++) {
      await ping(3, i)
      await anvil.mine(5)
    }
    http[0]!.setMode({ kind: 'logRange', maxBlocks: 5 })
    http[1]!.setMode({ kind: 'logRange', maxBlocks: 5, code: -32602, message: 'block range is too wide' })
    const want = await emitted()
    expect(want).toHaveLength(24)
    const events: WatchedEvent[] = []
    const errors: unknown[] = []
    watch(p, { fromBlock: from, confirmations: 0, reorgWindow: 4, range: 64, onError: (e) => errors.push(e) }, (e) => void events.push(e))
    await waitFor(() => events.length >= want.length, `${want.length} events`)
    expect(events.map((e) => key(e))).toEqual(want.map(key))
    const refused = (http[0]!.methodCounts()['eth_getLogs'] ?? 0) + (http[1]!.methodCounts()['eth_getLogs'] ?? 0)
    expect(refused).toBeGreaterThan(events.length / 3) // 64 → 32 → 16 → 8 → 4 were each asked, then every range of 4
    expect(errors).toEqual([])
  })

  it('ends when the pool is destroyed, without an unhandled rejection', async () => {
    const p = makePool()
    await p.ready({ minHealthy: 4, timeout: 5_000 })
    const events: WatchedEvent[] = []
    const w = watch(p, {}, (e) => void events.push(e))
    // 'latest' is fixed by the first head: the event must come after it.
    await waitFor(() => w.checkpoint() !== undefined, 'the start')
    await ping(1)
    await waitFor(() => events.length === 1, 'one event')
    await p.destroy()
    let ended = false
    void w.done.then(() => (ended = true))
    await waitFor(() => ended, 'the watcher to end')
  })
})
