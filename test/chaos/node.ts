import { startAnvil, type Anvil } from '../support/anvil.js'
import { createFaultProxy, type FaultProxy } from '../support/faultProxy.js'
import { createWsFaultProxy, type WsFaultProxy } from '../support/wsFaultProxy.js'

/** One JSON-RPC entry as it reached an HTTP proxy (params as the pool sent them, before any fault). */
export type ProxyEntry = { at: number; method: string; params: unknown }

/**
 * One anvil with a block time behind three fault proxies: two HTTP, one WebSocket. Not tied to
 * vitest hooks, so the soak script runs it too.
 */
export type ChaosNode = {
  anvil: Anvil
  http: [FaultProxy, FaultProxy]
  ws: WsFaultProxy
  /** Entries each HTTP proxy received since the last `resetProxies()`, in arrival order. */
  entries: [ProxyEntry[], ProxyEntry[]]
  /** Every proxy back to pass-through, counters and entry logs cleared. */
  resetProxies(): void
  stop(): Promise<void>
}

/** Block time (s): lag must be visible within a cell, and confirmation-depth reads need new blocks. */
export const BLOCK_TIME = 1

export async function startChaosNode(): Promise<ChaosNode> {
  const anvil = await startAnvil({ blockTime: BLOCK_TIME })
  const entries: [ProxyEntry[], ProxyEntry[]] = [[], []]
  const http = (await Promise.all(
    [0, 1].map((i) => createFaultProxy(anvil.url, { onEntry: (e) => entries[i]!.push(e) })),
  )) as [FaultProxy, FaultProxy]
  const ws = await createWsFaultProxy(anvil.url)
  return {
    anvil,
    http,
    ws,
    entries,
    resetProxies() {
      for (const p of [...http, ws]) {
        p.setMode({ kind: 'pass' })
        p.resetCounts()
      }
      entries[0].length = 0
      entries[1].length = 0
    },
    async stop() {
      await Promise.all([...http.map((p) => p.close()), ws.close()])
      await anvil.stop()
    },
  }
}
