import { Interface } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import { watchEvents, type EventWatcher, type Pool, type RpcLog, type WatchedEvent, type WatchEventsOptions } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { resetProxies, waitFor } from '../support/async.js'
import { deployCounter } from '../support/counter.js'
import { DEV_ACCOUNT } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// watchEvents against anvil through fault proxies: the delivered events are compared with what anvil
// itself returns for the final canonical chain.

const iface = new Interface(counterAbi)
// The pools' endpoints: both WebSocket proxies, then both HTTP ones.
const node = useProxiedAnvil({ ws: 2, http: 2, pool: { chainId: 31337, attemptTimeout: 400, heartbeat: { interval: 100, timeout: 300 } } })
let address: string

beforeEach(async () => {
  // A fresh contract per test: its logs are the test's alone.
  address = await deployCounter(node.anvil)
})

function watch(p: Pool, options: Partial<WatchEventsOptions>, handler: (e: WatchedEvent) => void | Promise<void>): EventWatcher {
  const w = watchEvents(p, { address, abi: counterAbi, eventName: 'Ping', pollInterval: 50, retryBackoff: { initial: 20, max: 200 }, ...options }, handler)
  node.defer(() => w.stop())
  return w
}

const ping = async (n: number, tag = 1) => (await node.anvil.transact({ from: DEV_ACCOUNT, to: address, data: iface.encodeFunctionData('ping', [n, `0x${tag.toString(16).padStart(64, '0')}`]) })).transactionHash
const head = async () => BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
const deployBlock = async () => BigInt((await node.anvil.rpc<RpcLog[]>('eth_getLogs', [{ address, fromBlock: '0x0', toBlock: 'latest' }]))[0]?.blockNumber ?? (await head()))
/** What anvil holds for the contract now: the final canonical chain. */
const emitted = () => node.anvil.rpc<RpcLog[]>('eth_getLogs', [{ address, fromBlock: '0x0', toBlock: 'latest' }])
const key = (l: { blockHash: string; logIndex: string | number; transactionHash: string }) => `${l.blockHash}:${BigInt(l.logIndex)}:${l.transactionHash}`

describe('watchEvents', () => {
  it('delivers thousands of events exactly once and in order while faults rotate across endpoints', async () => {
    const p = await node.pool({}, { ready: 4 })
    const start = await head()
    // History to backfill: 1,200 events over 12 blocks, spread over 60 blocks.
    for (let i = 0; i < 12; i++) {
      await ping(100, i)
      await node.anvil.mine(4)
    }
    const events: WatchedEvent[] = []
    const checkpoints: bigint[] = []
    const errors: unknown[] = []
    // A small reorg window and range: the backfill crosses many number ranges, then by-hash blocks.
    watch(p, { fromBlock: start, confirmations: 1, reorgWindow: 8, range: 16, onCheckpoint: (b) => void checkpoints.push(b), onError: (e) => errors.push(e) }, (e) => {
      events.push(e)
    })
    const faults: Array<() => void> = [
      () => (node.ws[0]!.setMode({ kind: 'drop' }), node.http[0]!.setMode({ kind: 'hang' })),
      () => (node.ws[1]!.setMode({ kind: 'drop' }), node.http[1]!.setMode({ kind: 'stale' })),
      () => (node.ws[0]!.setMode({ kind: 'silent' }), node.http[0]!.setMode({ kind: 'http500' })),
      () => (node.ws[1]!.setMode({ kind: 'drop' }), node.http[1]!.setMode({ kind: 'hang' })),
      () => (node.ws[0]!.setMode({ kind: 'drop' }), node.ws[1]!.setMode({ kind: 'drop' })), // polling only
    ]
    for (let round = 0; round < 20; round++) {
      resetProxies(...node.ws, ...node.http)
      faults[round % faults.length]!()
      await ping(100, 100 + round)
      await new Promise((r) => setTimeout(r, 60))
    }
    resetProxies(...node.ws, ...node.http)
    await node.anvil.mine(2)
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
    const p = await node.pool({}, { ready: 4 })
    const events: WatchedEvent[] = []
    const from = (await head()) + 1n
    watch(p, { fromBlock: from, confirmations: 3 }, (e) => void events.push(e))
    await ping(5, 1)
    await node.anvil.mine(3)
    await waitFor(() => events.length === 5, 'the first five events')
    // Two blocks with events, reorged out while 0 and 1 deep.
    await ping(4, 2)
    await ping(3, 3)
    const doomed = (await emitted()).filter((l) => BigInt(l.blockNumber) > (events.at(-1)?.blockNumber ?? 0n)).map((l) => l.blockHash)
    expect(doomed).toHaveLength(7)
    await new Promise((r) => setTimeout(r, 300)) // let the watcher see them at the head
    await node.anvil.rpc('anvil_reorg', [2, []])
    await ping(2, 4)
    await node.anvil.mine(4)
    const want = await emitted()
    expect(want).toHaveLength(7)
    await waitFor(() => events.length >= want.length, `${want.length} events`)
    await new Promise((r) => setTimeout(r, 300))
    expect(events.map((e) => key(e))).toEqual(want.map(key))
    expect(events.some((e) => doomed.includes(e.blockHash))).toBe(false)
    expect(events.some((e) => e.removed)).toBe(false)
  })

  it('with confirmations: 0, a reorg delivers removed notices (newest first), then the replacements', async () => {
    const p = await node.pool({}, { ready: 4 })
    const events: WatchedEvent[] = []
    watch(p, { fromBlock: (await head()) + 1n, confirmations: 0 }, (e) => void events.push(e))
    await ping(2, 1)
    await ping(3, 2)
    await waitFor(() => events.length === 5, 'five events at the head')
    const delivered = events.map((e) => key(e))
    await node.anvil.rpc('anvil_reorg', [1, []])
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
    const p = await node.pool({}, { ready: 4 })
    const from = (await head()) + 1n
    for (let i = 0; i < 10; i++) await ping(50, i)
    await node.anvil.mine(1)
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
    const p = await node.pool({ endpoints: node.http }, { ready: 2 })
    const from = await deployBlock()
    for (let i = 0; i < 8; i++) {
      await ping(3, i)
      await node.anvil.mine(5)
    }
    node.http[0]!.setMode({ kind: 'logRange', maxBlocks: 5 })
    node.http[1]!.setMode({ kind: 'logRange', maxBlocks: 5, code: -32602, message: 'block range is too wide' })
    const want = await emitted()
    expect(want).toHaveLength(24)
    const events: WatchedEvent[] = []
    const errors: unknown[] = []
    watch(p, { fromBlock: from, confirmations: 0, reorgWindow: 4, range: 64, onError: (e) => errors.push(e) }, (e) => void events.push(e))
    await waitFor(() => events.length >= want.length, `${want.length} events`)
    expect(events.map((e) => key(e))).toEqual(want.map(key))
    const refused = (node.http[0]!.methodCounts()['eth_getLogs'] ?? 0) + (node.http[1]!.methodCounts()['eth_getLogs'] ?? 0)
    expect(refused).toBeGreaterThan(events.length / 3) // 64 → 32 → 16 → 8 → 4 were each asked, then every range of 4
    expect(errors).toEqual([])
  })

  it('ends when the pool is destroyed, without an unhandled rejection', async () => {
    const p = await node.pool({}, { ready: 4 })
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
