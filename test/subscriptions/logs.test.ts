import { describe, expect, it, vi } from 'vitest'
import { InvalidResponseError } from '../../src/errors/endpoint.js'
import { LogTracker, toLog, type RpcLog } from '../../src/subscriptions/logs.js'
import type { SubscriptionGap } from '../../src/subscriptions/heads.js'

// LogTracker over an in-memory chain: block number → { hash, logs }. A reorg replaces blocks from a
// height on, with new hashes and new logs.

const hex = (n: number | bigint) => `0x${n.toString(16)}`
const ADDRESS = `0x${'1'.repeat(40)}`

class Chain {
  readonly blocks = new Map<number, { hash: string; logs: RpcLog[] }>()
  #salt = 0

  /** Sets block `number` (a new hash) with logs at the given log indexes. */
  block(number: number, indexes: number[] = []): string {
    const hash = `0x${(++this.#salt).toString(16).padStart(8, '0')}${number.toString(16).padStart(56, '0')}`
    this.blocks.set(number, { hash, logs: indexes.map((i) => log(number, i, hash)) })
    return hash
  }
  /** Blocks 0..`to`, with logs where `withLogs` says. */
  grow(to: number, withLogs: Record<number, number[]> = {}) {
    for (let n = this.height + 1; n <= to; n++) this.block(n, withLogs[n])
  }
  get height() {
    return Math.max(-1, ...this.blocks.keys())
  }
  logs(number: number): RpcLog[] {
    return this.blocks.get(number)?.logs ?? []
  }
  truncate(above: number) {
    for (const n of [...this.blocks.keys()]) if (n > above) this.blocks.delete(n)
  }
}

function log(block: number, index: number, blockHash: string): RpcLog {
  return {
    address: ADDRESS,
    topics: [`0x${'e'.repeat(64)}`],
    data: hex(block * 1000 + index),
    blockNumber: hex(block),
    blockHash,
    transactionHash: `0x${'7'.repeat(56)}${block.toString(16).padStart(4, '0')}${index.toString(16).padStart(4, '0')}`,
    transactionIndex: '0x0',
    logIndex: hex(index),
    removed: false,
  }
}

type Event = { log: string } | { removed: string } | { gap: SubscriptionGap }
/** A log as `block/index@hash-salt`, readable in a diff. */
const id = (l: RpcLog) => `${BigInt(l.blockNumber)}/${BigInt(l.logIndex)}@${l.blockHash.slice(2, 10)}`
const logs = (...ls: RpcLog[]): Event[] => ls.map((l) => ({ log: id(l) }))
const removed = (...ls: RpcLog[]): Event[] => ls.map((l) => ({ removed: id(l) }))

function setup(chain: Chain, maxBackfill = 16) {
  const events: Event[] = []
  const removedLogs: RpcLog[] = []
  const getLogs = vi.fn(async (from: bigint, to: bigint, _signal: AbortSignal): Promise<unknown> => {
    const out: RpcLog[] = []
    for (let n = Number(from); n <= Number(to); n++) out.push(...chain.logs(n))
    // Nodes answer in order, but the tracker must not rely on it.
    return out.reverse()
  })
  const blockHash = vi.fn(async (n: bigint, _signal: AbortSignal) => chain.blocks.get(Number(n))?.hash)
  const tracker = new LogTracker({ getLogs, blockHash }, {
    log: (l) => events.push({ log: id(l) }),
    removed: (l) => {
      removedLogs.push(l)
      events.push({ removed: id(l) })
    },
    gap: (e) => events.push({ gap: e }),
  }, maxBackfill)
  const signal = new AbortController().signal
  return { tracker, events, removedLogs, getLogs, blockHash, sync: (to: number) => tracker.sync(BigInt(to), signal) }
}

describe('LogTracker', () => {
  it('the first sync only fixes where the stream starts', async () => {
    const chain = new Chain()
    chain.grow(10, { 3: [0], 10: [0, 1] })
    const t = setup(chain)
    await t.sync(10)
    expect(t.events).toEqual([])
    expect(t.tracker.scanned).toBe(10n)
    expect(t.getLogs).not.toHaveBeenCalled()
  })

  it('later syncs deliver new logs in (block, logIndex) order, exactly once', async () => {
    const chain = new Chain()
    chain.grow(10, { 10: [0] })
    const t = setup(chain)
    await t.sync(10)
    chain.grow(14, { 11: [0, 1], 12: [3], 14: [0, 2, 5] })
    await t.sync(14)
    expect(t.getLogs).toHaveBeenLastCalledWith(11n, 14n, expect.anything())
    expect(t.events).toEqual(logs(...chain.logs(11), ...chain.logs(12), ...chain.logs(14)))
    await t.sync(14)
    expect(t.events).toHaveLength(6)
    chain.grow(16, { 16: [1] })
    await t.sync(16)
    expect(t.getLogs).toHaveBeenLastCalledWith(15n, 16n, expect.anything())
    expect(t.events.slice(6)).toEqual(logs(...chain.logs(16)))
    expect(t.tracker.scanned).toBe(16n)
  })

  it('live logs, then a sync over the same range: no duplicates, and what the subscription missed is filled in', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain)
    await t.sync(10)
    chain.grow(12, { 11: [0, 1], 12: [0, 1] })
    const [a, b] = chain.logs(11)
    const [c, d] = chain.logs(12)
    expect(t.tracker.live(a)).toBe(false)
    expect(t.tracker.live(b)).toBe(false)
    expect(t.tracker.live(c)).toBe(false)
    expect(t.tracker.live(c)).toBe(false) // repeated
    expect(t.tracker.live(a)).toBe(false) // older than the last delivered
    await t.sync(12)
    expect(t.events).toEqual(logs(a!, b!, c!, d!))
  })

  it('a live log for a delivered block with another hash returns true and delivers nothing', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain)
    await t.sync(10)
    chain.grow(11, { 11: [0] })
    const [old] = chain.logs(11)
    t.tracker.live(old)
    chain.block(11, [1])
    const [other] = chain.logs(11)
    expect(t.tracker.live(other)).toBe(true)
    expect(t.events).toEqual(logs(old!))
  })

  it('a sync after a reorg of delivered blocks: removed notices newest first, then the replacement logs', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain)
    await t.sync(10)
    chain.grow(13, { 11: [0], 12: [0, 1], 13: [2] })
    await t.sync(13)
    const before = [...chain.logs(11), ...chain.logs(12), ...chain.logs(13)]
    expect(t.events).toEqual(logs(...before))
    chain.truncate(11)
    chain.block(12, [0])
    chain.block(13, [])
    chain.block(14, [4])
    await t.sync(14)
    expect(t.events.slice(4)).toEqual([
      ...removed(before[3]!, before[2]!, before[1]!), // 13/2, 12/1, 12/0
      ...logs(...chain.logs(12), ...chain.logs(14)),
    ])
    expect(t.removedLogs.every((l) => l.removed === true)).toBe(true)
    expect(t.getLogs).toHaveBeenLastCalledWith(12n, 14n, expect.anything())
  })

  it('a reorg to a shorter chain: logs above the new head are removed; they come back once the blocks do', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain)
    await t.sync(10)
    chain.grow(12, { 11: [0], 12: [0] })
    await t.sync(12)
    const gone = chain.logs(12)[0]!
    chain.truncate(11)
    await t.sync(11)
    expect(t.events.slice(2)).toEqual(removed(gone))
    expect(t.tracker.scanned).toBe(11n)
    chain.block(12, [0])
    await t.sync(12)
    expect(t.events.slice(3)).toEqual(logs(...chain.logs(12)))
  })

  it('a removed: true live log is reported removed; its replacement is then delivered', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain)
    await t.sync(10)
    chain.grow(11, { 11: [0, 1] })
    const [a, b] = chain.logs(11)
    t.tracker.live(a)
    t.tracker.live(b)
    expect(t.tracker.live({ ...b!, removed: true })).toBe(false)
    expect(t.tracker.live({ ...a!, removed: true })).toBe(false)
    expect(t.events.slice(2)).toEqual(removed(b!, a!))
    // A removal of something never delivered is not reported.
    expect(t.tracker.live({ ...b!, removed: true })).toBe(false)
    expect(t.events).toHaveLength(4)
    chain.block(11, [0])
    const [replacement] = chain.logs(11)
    expect(t.tracker.live(replacement)).toBe(false)
    expect(t.events.slice(4)).toEqual(logs(replacement!))
  })

  it('a range longer than maxBackfill: a gap with exact bounds, then the last maxBackfill blocks are scanned', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain, 5)
    await t.sync(10)
    chain.grow(30, { 12: [0], 25: [0], 26: [1], 30: [0] })
    await t.sync(30)
    expect(t.getLogs).toHaveBeenCalledTimes(1)
    expect(t.getLogs).toHaveBeenLastCalledWith(26n, 30n, expect.anything())
    expect(t.events).toEqual([{ gap: { from: 11n, to: 25n, reason: 'more than maxBackfill (5) blocks missed' } }, ...logs(...chain.logs(26), ...chain.logs(30))])
    // Exactly maxBackfill blocks is not a gap.
    chain.grow(35, { 31: [0] })
    await t.sync(35)
    expect(t.getLogs).toHaveBeenLastCalledWith(31n, 35n, expect.anything())
    expect(t.events.slice(3)).toEqual(logs(...chain.logs(31)))
  })

  it('an answer that is not an array rejects with InvalidResponseError; scanned stays put so a retry covers the range', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain)
    await t.sync(10)
    chain.grow(12, { 12: [0] })
    t.getLogs.mockResolvedValueOnce({ logs: [] })
    await expect(t.sync(12)).rejects.toBeInstanceOf(InvalidResponseError)
    expect(t.tracker.scanned).toBe(10n)
    t.getLogs.mockRejectedValueOnce(new Error('boom'))
    await expect(t.sync(12)).rejects.toThrow('boom')
    await t.sync(12)
    expect(t.events).toEqual(logs(...chain.logs(12)))
  })

  it('toLog rejects what is not a log', () => {
    const good = log(1, 0, `0x${'a'.repeat(64)}`)
    expect(toLog(good)).toBe(good)
    for (const bad of [null, 'x', { ...good, blockNumber: 1 }, { ...good, blockNumber: '12' }, { ...good, logIndex: undefined }, { ...good, blockHash: null }, { ...good, topics: 'x' }]) {
      expect(() => toLog(bad), JSON.stringify(bad)).toThrow(InvalidResponseError)
    }
  })
})

describe('LogTracker: reorgs of blocks without delivered logs', () => {
  it('a polled reorg that replaces a block without logs by one with logs delivers them', async () => {
    const chain = new Chain()
    chain.grow(10)
    const t = setup(chain)
    await t.sync(10)
    chain.grow(12, { 11: [0] }) // 12 has no matching log
    await t.sync(12)
    chain.truncate(11)
    chain.block(12, [0]) // 12' does
    chain.block(13)
    await t.sync(13)
    expect(t.events).toEqual(logs(...chain.logs(11), ...chain.logs(12)))
  })
})
