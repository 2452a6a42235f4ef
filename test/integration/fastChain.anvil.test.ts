import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/index.js'
import { waitFor, watchStalls } from '../support/async.js'
import { freezeHead } from '../support/freezeHead.js'
import { getBalance } from '../support/getBalance.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// Lag on a fast chain: anvil mines a block every 250 ms, eight times faster than the pool's default
// heartbeat (2 s). With traffic, the heads the endpoints' answers carry are what reveal a node that
// stopped syncing, not the pings: `eth_blockNumber` takes turns among the endpoints (the one whose
// head was seen longest ago answers), so two of them vouch for each new head within a few calls.

const BLOCK_MS = 250
const node = useProxiedAnvil({ http: 3, anvil: { blockTime: BLOCK_MS / 1_000 } })
const C = 2
const DEFAULT_MAX_LAG = 5

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
    // When each eth_blockNumber answer came back: on a loaded machine the traffic itself slows down.
    const heads: number[] = []
    // A page's steady traffic: its head and a balance, every 50 ms.
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        await Promise.allSettled([p.request('eth_blockNumber').then(() => heads.push(Date.now())), getBalance(p, i % 4)])
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    try {
      const took: number[] = []
      const allowed: number[] = []
      for (let round = 0; round < 6; round++) {
        await freezeHead(node.http[C]!)
        // The height C is frozen at, as C itself answers it.
        const frozen = BigInt(await rpc(node.http[C]!.url, 'eth_blockNumber'))
        // When C fell more than maxLag (5) blocks behind: the chain, read straight from anvil, reached
        // frozen + 6 (anvil mines on its own clock, late on a loaded machine).
        const deadline = Date.now() + 10_000
        while (BigInt(await node.anvil.rpc<string>('eth_blockNumber')) < frozen + BigInt(DEFAULT_MAX_LAG + 1)) {
          if (Date.now() > deadline) throw new Error('the chain did not get 6 blocks past C')
          await new Promise((r) => setTimeout(r, 10))
        }
        const fellAt = Date.now()
        await waitFor(() => status(p, C) === 'lagging', 'C to be lagging', 10_000)
        took.push(Date.now() - fellAt)
        // Two block times and 250 ms; more only if the traffic was slower than that to bring the
        // evidence: an eth_blockNumber from each endpoint after the fall (one more for the one then in flight).
        const evidence = heads.filter((t) => t > fellAt)[node.http.length]
        allowed.push(Math.max(2 * BLOCK_MS + 250, evidence === undefined ? 0 : evidence - fellAt))
        node.http[C]!.setMode({ kind: 'pass' })
        await waitFor(() => status(p, C) === 'up', 'C to catch up', 10_000)
      }
      // Plus the worst event-loop stall measured meanwhile (the answers that carry the heads are read that much later).
      const stall = stalls.max()
      console.info(`fast chain: lagging ${took.join(', ')} ms after falling ${DEFAULT_MAX_LAG + 1} blocks behind (allowed ${allowed.map((ms) => Math.round(ms + stall)).join(', ')} ms)`)
      expect(took.filter((ms, round) => ms > allowed[round]! + stall)).toEqual([])
    } finally {
      stalls.stop()
      running = false
      await traffic
    }
  })
})
