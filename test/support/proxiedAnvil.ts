import { afterAll, beforeAll, beforeEach } from 'vitest'
import { startAnvil, type Anvil, type StartAnvilOptions } from './anvil.js'
import { resetProxies } from './async.js'
import { createFaultProxy, type FaultProxy } from './faultProxy.js'
import { createWsFaultProxy, type WsFaultProxy } from './wsFaultProxy.js'

export type ProxiedAnvil = {
  /** Set in beforeAll. */
  anvil: Anvil
  /** HTTP fault proxies in front of it, in order. */
  http: FaultProxy[]
  /** WebSocket fault proxies in front of it (anvil serves WebSocket on its HTTP port). */
  ws: WsFaultProxy[]
}

/**
 * One anvil behind fault proxies for a whole test file — several anvils would be several chains:
 * started before the first test, every proxy back to pass-through with zeroed counters before each
 * test, everything stopped after the last one. Its fields are filled in `beforeAll`.
 */
export function useProxiedAnvil(options: { http?: number; ws?: number; anvil?: StartAnvilOptions } = {}): ProxiedAnvil {
  const node = { http: [], ws: [] } as unknown as ProxiedAnvil
  beforeAll(async () => {
    node.anvil = await startAnvil(options.anvil)
    node.http = await Promise.all(Array.from({ length: options.http ?? 0 }, () => createFaultProxy(node.anvil.url)))
    node.ws = await Promise.all(Array.from({ length: options.ws ?? 0 }, () => createWsFaultProxy(node.anvil.url)))
  })
  afterAll(async () => {
    await Promise.all([...node.http.map((p) => p.close()), ...node.ws.map((p) => p.close())])
    await node.anvil?.stop()
  })
  beforeEach(() => {
    resetProxies(...node.http, ...node.ws)
  })
  return node
}
