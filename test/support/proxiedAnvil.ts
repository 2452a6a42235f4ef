import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { createPool, type EndpointConfig, type Pool, type PoolOptions } from '../../src/index.js'
import { startAnvil, type Anvil, type StartAnvilOptions } from './anvil.js'
import { waitFor } from './async.js'
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
  /**
   * A pool over this anvil: the file's `pool` defaults, then `options` (a shallow merge, so a test
   * states the whole of any nested option it changes). A fault proxy among the endpoints stands for
   * `endpoint(proxy)`. Destroyed when the test ends, like everything given to `track`.
   */
  pool(options?: AnvilPoolOptions): Pool
  /** The same pool, returned once `ready` of its endpoints are up (`pool.ready`, within 5 s). */
  pool(options: AnvilPoolOptions | undefined, wait: { ready: number }): Promise<Pool>
  /**
   * A proxy of this file as a pool endpoint: its URL (with an API key in the path when the file is
   * `keyed`), its name unless the file is not `named` (A, B, C… for HTTP proxies, ws0, ws1… for
   * WebSocket ones), then `extra`.
   */
  endpoint(proxy: FaultProxy | WsFaultProxy, extra?: Omit<EndpointObject, 'url' | 'name'>): EndpointObject
  /**
   * Destroys `thing` (a pool the test built by hand, a transport, a provider) when the test ends, or
   * after the last test when called in a `beforeAll`; returns it.
   */
  track<T extends { destroy(): unknown }>(thing: T): T
  /**
   * Runs `release` when `track` would destroy something given now. Releases run latest first, so a
   * watcher or outbox stops before the pool under it, and all before the chain is reverted (vitest's
   * `onTestFinished` runs after every afterEach, the revert included).
   */
  defer(release: () => unknown): void
  /** Requests for `method` that reached the HTTP proxies since their counts were last reset (before each test). */
  calls(method: string): number
}

type EndpointObject = Exclude<EndpointConfig, string>

export type AnvilPoolOptions = Omit<Partial<PoolOptions>, 'endpoints'> & {
  /** Fault proxies of this file, or endpoints as createPool takes them. @default every WebSocket proxy, then every HTTP one */
  endpoints?: ReadonlyArray<FaultProxy | WsFaultProxy | EndpointConfig>
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
  /** The options every `pool()` of the file starts from. @default none (createPool's defaults) */
  pool?: Omit<Partial<PoolOptions>, 'endpoints'>
  /** Proxies appear in pools under their names; without, as their redacted URLs (`http://127.0.0.1:PORT#i`). @default true */
  named?: boolean
  /** Each proxy's URL carries an API key in its path (`/v3/SECRET<i>KEY`), as hosted providers put it. @default false */
  keyed?: boolean
}

/** Long enough for a first heartbeat on every endpoint of a loaded 2-core machine. */
const READY_TIMEOUT_MS = 5_000

const each = <O>(spec: number | O[] | undefined): O[] => (typeof spec === 'number' ? Array.from({ length: spec }, () => ({}) as O) : (spec ?? []))

/**
 * One anvil behind fault proxies for a whole test file — several anvils would be several chains:
 * started before the first test, every proxy back to its starting mode with zeroed counters before
 * each test, everything stopped after the last one. Its fields are filled in `beforeAll`, so a
 * `beforeAll` of the file registered after this call already sees them. Pools made with `pool()`
 * or given to `track` are destroyed when their test ends; then, so that no socket of one test
 * reaches into the next, the fixture waits until no WebSocket proxy has more connections open than
 * when the test began.
 * @example
 * const node = useProxiedAnvil({ http: 3, pool: { attemptTimeout: 500, heartbeat: { interval: 50 } } })
 *
 * it('fails over from a hanging endpoint', async () => {
 *   const p = await node.pool({ strategy: 'weighted-round-robin' }, { ready: 3 })
 *   node.http[0]!.setMode({ kind: 'hang' })
 *   await p.request('eth_blockNumber')
 *   expect(node.calls('eth_blockNumber')).toBeGreaterThan(0)
 * })
 */
export function useProxiedAnvil(options: ProxiedAnvilOptions = {}): ProxiedAnvil {
  const httpOptions = each(options.http)
  const wsOptions = each(options.ws)
  const fileReleases: Array<() => unknown> = []
  const testReleases: Array<() => unknown> = []
  let releases = fileReleases
  const defer = (release: () => unknown) => void releases.push(release)
  const track = <T extends { destroy(): unknown }>(thing: T): T => {
    defer(() => thing.destroy())
    return thing
  }
  const endpoint = (proxy: FaultProxy | WsFaultProxy, extra: Omit<EndpointObject, 'url' | 'name'> = {}): EndpointObject => {
    const ws = node.ws.findIndex((p) => p === proxy)
    const i = ws >= 0 ? ws : node.http.findIndex((p) => p === proxy)
    if (i < 0) throw new Error(`endpoint(): ${proxy.url} is not a proxy of this file`)
    const url = options.keyed ? `${proxy.url}/v3/SECRET${i}KEY` : proxy.url
    const name = ws >= 0 ? `ws${i}` : String.fromCharCode(65 + i)
    return { url, ...(options.named === false ? {} : { name }), ...extra }
  }
  function pool(overrides?: AnvilPoolOptions): Pool
  function pool(overrides: AnvilPoolOptions | undefined, wait: { ready: number }): Promise<Pool>
  function pool(overrides: AnvilPoolOptions = {}, wait?: { ready: number }): Pool | Promise<Pool> {
    const { endpoints = [...node.ws, ...node.http], ...rest } = { ...options.pool, ...overrides }
    const made = track(createPool({ ...rest, endpoints: endpoints.map((e) => (isProxy(e) ? endpoint(e) : e)) }))
    if (!wait) return made
    return made.ready({ minHealthy: wait.ready, timeout: READY_TIMEOUT_MS }).then(() => made)
  }
  const calls = (method: string) => node.http.reduce((sum, p) => sum + (p.methodCounts()[method] ?? 0), 0)
  const node: ProxiedAnvil = { http: [], ws: [], anvil: undefined as unknown as Anvil, counter: undefined as unknown as string, pool, endpoint, track, defer, calls }
  beforeAll(async () => {
    node.anvil = await startAnvil(options.anvil)
    if (options.counter !== undefined) node.counter = await deployCounter(node.anvil, options.counter)
    if (options.mine) await node.anvil.mine(options.mine)
    node.http = await Promise.all(httpOptions.map((o) => createFaultProxy(node.anvil.url, o)))
    node.ws = await Promise.all(wsOptions.map((o) => createWsFaultProxy(node.anvil.url, o)))
  })
  afterAll(async () => {
    await release(fileReleases)
    await Promise.all([...node.http.map((p) => p.close()), ...node.ws.map((p) => p.close())])
    await node.anvil?.stop()
  })
  let snapshot: string | undefined
  let openBefore: number[] = []
  beforeEach(async () => {
    releases = testReleases
    openBefore = node.ws.map((p) => p.openConnections())
    node.http.forEach((p, i) => reset(p, httpOptions[i]?.mode ?? { kind: 'pass' }))
    node.ws.forEach((p, i) => reset(p, wsOptions[i]?.mode ?? { kind: 'pass' }))
    if (options.snapshot) snapshot = await node.anvil.snapshot()
  })
  afterEach(async () => {
    releases = fileReleases
    try {
      await release(testReleases)
      await waitFor(() => node.ws.every((p, i) => p.openConnections() <= openBefore[i]!), 'every WebSocket of the test to close')
    } finally {
      if (snapshot !== undefined) {
        const id = snapshot
        snapshot = undefined
        await node.anvil.revert(id)
      }
    }
  })
  return node
}

function reset<M extends FaultMode | WsFaultMode>(proxy: { setMode(mode: M): void; resetCounts(): void }, mode: M): void {
  proxy.setMode(mode)
  proxy.resetCounts()
}

const isProxy = (e: FaultProxy | WsFaultProxy | EndpointConfig): e is FaultProxy | WsFaultProxy => typeof e === 'object' && 'setMode' in e

/** Runs every release, latest first, each awaited: a failing one fails the hook, and the rest still run. */
async function release(releases: Array<() => unknown>): Promise<void> {
  const errors: unknown[] = []
  for (const run of releases.splice(0).reverse()) {
    try {
      await run()
    } catch (e) {
      errors.push(e)
    }
  }
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} releases failed`)
}
