import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { startAnvil, type Anvil, type StartAnvilOptions } from './anvil.js'
import { deployCounter } from './counter.js'
import { createFaultProxy, type FaultMode, type FaultProxy, type FaultProxyOptions } from './faultProxy.js'
import { createWsFaultProxy, type WsFaultMode, type WsFaultProxy } from './wsFaultProxy.js'

export type ProxiedAnvil = {
  /** Set in beforeAll. */
  anvil: Anvil
  /** HTTP fault proxies in front of it, in order. */
  http: FaultProxy[]
  /** WebSocket fault proxies in front of it (anvil serves WebSocket on its HTTP port). */
  ws: WsFaultProxy[]
  /** Address of the Counter fixture contract, when `counter` was asked for; else undefined. */
  counter: string
}

export type ProxiedAnvilOptions = {
  /**
   * HTTP fault proxies: how many, or one options object each. A proxy's `mode` is the one it starts
   * in and goes back to before every test (a proxy that is dead for the whole file stays dead).
   * @default 0
   */
  http?: number | FaultProxyOptions[]
  /** WebSocket fault proxies: how many, or one options object each (`mode` as for `http`). @default 0 */
  ws?: number | Array<{ mode?: WsFaultMode }>
  anvil?: StartAnvilOptions
  /**
   * Deploys the Counter fixture contract with this initial value, straight to anvil, before the
   * first test; its address is `counter`. @default not deployed
   */
  counter?: bigint
  /** Blocks mined after the deployment, before the first test: history to read at depth. @default 0 */
  mine?: number
  /**
   * `evm_snapshot` before each test and `evm_revert` after it — after the file's own afterEach hooks,
   * which run first — so every test starts from the same chain. @default false
   */
  snapshot?: boolean
}

const each = <O>(spec: number | O[] | undefined): O[] => (typeof spec === 'number' ? Array.from({ length: spec }, () => ({}) as O) : (spec ?? []))

/**
 * One anvil behind fault proxies for a whole test file — several anvils would be several chains:
 * started before the first test, every proxy back to its starting mode with zeroed counters before
 * each test, everything stopped after the last one. Its fields are filled in `beforeAll`, so a
 * `beforeAll` of the file registered after this call already sees them.
 */
export function useProxiedAnvil(options: ProxiedAnvilOptions = {}): ProxiedAnvil {
  const node = { http: [], ws: [] } as unknown as ProxiedAnvil
  const httpOptions = each(options.http)
  const wsOptions = each(options.ws)
  beforeAll(async () => {
    node.anvil = await startAnvil(options.anvil)
    if (options.counter !== undefined) node.counter = await deployCounter(node.anvil, options.counter)
    if (options.mine) await node.anvil.mine(options.mine)
    node.http = await Promise.all(httpOptions.map((o) => createFaultProxy(node.anvil.url, o)))
    node.ws = await Promise.all(wsOptions.map((o) => createWsFaultProxy(node.anvil.url, o)))
  })
  afterAll(async () => {
    await Promise.all([...node.http.map((p) => p.close()), ...node.ws.map((p) => p.close())])
    await node.anvil?.stop()
  })
  let snapshot: string | undefined
  beforeEach(async () => {
    node.http.forEach((p, i) => reset(p, httpOptions[i]?.mode ?? { kind: 'pass' }))
    node.ws.forEach((p, i) => reset(p, wsOptions[i]?.mode ?? { kind: 'pass' }))
    if (options.snapshot) snapshot = await node.anvil.snapshot()
  })
  afterEach(async () => {
    if (snapshot === undefined) return
    const id = snapshot
    snapshot = undefined
    await node.anvil.revert(id)
  })
  return node
}

function reset<M extends FaultMode | WsFaultMode>(proxy: { setMode(mode: M): void; resetCounts(): void }, mode: M): void {
  proxy.setMode(mode)
  proxy.resetCounts()
}
