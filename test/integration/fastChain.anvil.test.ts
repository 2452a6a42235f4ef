import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/index.js'
import { waitFor, watchStalls } from '../support/async.js'
import { freezeHead } from '../support/freezeHead.js'
import { getBalance } from '../support/getBalance.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// Lag on a fast chain: anvil mines a block every 250 ms, eight times faster than the pool's default
// heartbeat (2 s). With traffic, the heads the endpoints' answers carry are what reveal a node that
// stopped syncing, not the pings.

const BLOCK_MS = 250
const node = useProxiedAnvil({ http: 3, anvil: { blockTime: BLOCK_MS / 1_000 } })
const C = 2

const status = (p: Pool, i: number) => p.stats().endpoints[i]!.status

describe('lag on a fast chain', () => {
  it('with steady traffic, a node that stops syncing is lagging within two block times (+250 ms) of falling maxLag blocks behind, every time', async () => {
    // Default options: maxLag 5, heartbeats every 2 s.
    const p = await node.pool({}, { ready: 3 })
    const stalls = watchStalls()
    let running = true
    // A page's steady traffic: its head and a balance, every 50 ms.
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        await Promise.allSettled([p.request('eth_blockNumber'), getBalance(p, i % 4)])
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    try {
      const took: number[] = []
      for (let round = 0; round < 3; round++) {
        const frozenAt = Date.now()
        await freezeHead(node.http[C]!)
        await waitFor(() => status(p, C) === 'lagging', 'C to be lagging', 10_000)
        took.push(Date.now() - frozenAt)
        node.http[C]!.setMode({ kind: 'pass' })
        await waitFor(() => status(p, C) === 'up', 'C to catch up', 10_000)
      }
      // More than maxLag (5) blocks behind after 6 blocks; two block times and 250 ms more at most —
      // plus the worst event-loop stall measured meanwhile: anvil mines on its own clock, and on a
      // loaded machine the answers that carry the heads are read that much later.
      const bound = 6 * BLOCK_MS + 2 * BLOCK_MS + 250 + stalls.max()
      expect(took.filter((ms) => ms > bound)).toEqual([])
    } finally {
      stalls.stop()
      running = false
      await traffic
    }
  })
})
