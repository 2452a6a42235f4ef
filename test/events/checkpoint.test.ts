import { describe, expect, it } from 'vitest'
import { Progress } from '../../src/events/checkpoint.js'
import type { WatchedEvent } from '../../src/events/decoder.js'

const event = (block: number, index: number) => ({ blockNumber: BigInt(block), logIndex: index }) as WatchedEvent

describe('Progress', () => {
  it('a start is no checkpoint; checkpoints move the cursor either way and are told', async () => {
    const told: bigint[] = []
    const p = new Progress(async (b) => void told.push(b))
    expect(p.processed).toBeUndefined()
    p.start(9n)
    expect(p.processed).toBe(9n)
    await p.checkpoint(12n)
    await p.checkpoint(10n)
    expect(p.processed).toBe(10n)
    expect(told).toEqual([12n, 10n])
  })

  it('names the blocks a reorg orphaned, newest first, and takes their events back last first', () => {
    const p = new Progress(async () => {})
    p.delivered(5n, '0xA5', event(5, 0))
    p.delivered(6n, '0xa6', event(6, 0))
    p.delivered(6n, '0xa6', event(6, 1))
    p.delivered(7n, '0xa7', event(7, 0))
    const canonical = (n: bigint) => ({ 5: '0xa5', 6: '0xb6' })[Number(n) as 5 | 6]
    expect(p.orphaned(5n, canonical)).toEqual([7n, 6n])
    expect(p.orphaned(7n, canonical)).toEqual([7n])
    expect(p.lastDelivered(6n)).toEqual(event(6, 1))
    p.takeBack(6n)
    expect(p.lastDelivered(6n)).toEqual(event(6, 0))
    p.takeBack(6n)
    expect(p.lastDelivered(6n)).toBeUndefined()
    expect(p.orphaned(5n, canonical)).toEqual([7n])
  })

  it('forgets blocks that left the reorg window, and everything when cleared', () => {
    const p = new Progress(async () => {})
    for (const n of [3n, 4n, 5n]) p.delivered(n, `0x${n}`, event(Number(n), 0))
    p.settle(4n)
    expect(p.orphaned(0n, () => undefined)).toEqual([5n])
    p.clear()
    expect(p.orphaned(0n, () => undefined)).toEqual([])
  })
})
