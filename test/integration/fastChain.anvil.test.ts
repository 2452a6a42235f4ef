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

/** One JSON-RPC call straight to `url` (a proxy), not through a pool. */
async function rpc(url: string, method: string): Promise<string> {
  const reply = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }) })
  return ((await reply.json()) as { result: string }).result
}

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
        await freezeHead(node.http[C]!)
        // The height C is frozen at, as C itself answers it.
        const frozen = BigInt(await rpc(node.http[C]!.url, 'eth_blockNumber'))
        // When C fell more than maxLag (5) blocks behind: the chain, read straight from anvil, reached
        // frozen + 6 (anvil mines on its own clock, late on a loaded machine).
        const deadline = Date.now() + 10_000
        while (BigInt(await node.anvil.rpc<string>('eth_blockNumber')) < frozen + 6n) {
          if (Date.now() > deadline) throw new Error('the chain did not get 6 blocks past C')
          await new Promise((r) => setTimeout(r, 10))
        }
        const fellAt = Date.now()
        await waitFor(() => status(p, C) === 'lagging', 'C to be lagging', 10_000)
        took.push(Date.now() - fellAt)
        node.http[C]!.setMode({ kind: 'pass' })
        await waitFor(() => status(p, C) === 'up', 'C to catch up', 10_000)
      }
      // Two block times and 250 ms at most after it fell behind, plus the worst event-loop stall
      // measured meanwhile (the answers that carry the heads are read that much later).
      const bound = 2 * BLOCK_MS + 250 + stalls.max()
      expect(took.filter((ms) => ms > bound)).toEqual([])
    } finally {
      stalls.stop()
      running = false
      await traffic
    }
  })
})
