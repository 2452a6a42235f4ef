import { vi } from 'vitest'
import type { Pool, PoolOptions } from '../../src/index.js'
import type { Behaviour, FetchCall } from './fakeFetch.js'
import { useFakePool, type FakePool } from './fakePool.js'

export type Host = 'a' | 'b' | 'c'

export type ThreeNodes = FakePool & {
  /** Each node's head; a test moves them, and the nodes answer from them. */
  heads: Record<Host, number>
  /** Every node at head 10, answering; `readyPool` starts so. */
  script(): void
  /**
   * A pool over the three nodes, every one at head 10 and ready (all three answered their first
   * heartbeat), with the calls so far forgotten. Heartbeats are far apart: what the pool learns
   * afterwards comes from answers, or from rounds it asks for.
   */
  readyPool(options?: Partial<PoolOptions>): Promise<Pool>
}

/** `n` as a JSON-RPC quantity. */
export const hex = (n: number): string => `0x${n.toString(16)}`

/**
 * Three scripted nodes `a`, `b`, `c` on chain 1 and pools over them (fake timers, no hedging,
 * sharing or cache, so every call reaches a node): the chain the fresh-heads tests play out.
 * `answer` answers every call but `eth_chainId`, given the node's head now.
 */
export function useThreeNodes(heartbeat: NonNullable<PoolOptions['heartbeat']>, answer: (host: Host, call: FetchCall, head: number) => Behaviour): ThreeNodes {
  const heads: Record<Host, number> = { a: 10, b: 10, c: 10 }
  const pools = useFakePool({
    endpoints: (['a', 'b', 'c'] as const).map((h) => ({ url: `http://${h}`, name: h })),
    chainId: 1,
    random: () => 0,
    hedge: false,
    dedupe: false,
    cache: false,
    heartbeat,
  })
  const { fake, makePool } = pools
  function script(): void {
    for (const h of ['a', 'b', 'c'] as const) {
      heads[h] = 10
      fake.set(h, (call) => (call.method === 'eth_chainId' ? { kind: 'ok', result: '0x1' } : answer(h, call, heads[h])))
    }
  }
  async function readyPool(options: Partial<PoolOptions> = {}): Promise<Pool> {
    script()
    const pool = makePool(options)
    const ready = pool.ready({ minHealthy: 3 })
    await vi.advanceTimersByTimeAsync(100)
    await ready
    fake.calls.length = 0
    return pool
  }
  return { ...pools, heads, script, readyPool }
}
