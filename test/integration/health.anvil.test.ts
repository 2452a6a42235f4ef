import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isResilientRpcError, type Pool } from '../../src/index.js'
import { freezeHead } from '../support/freezeHead.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { runInChild } from '../support/runInChild.js'
import { waitFor } from '../support/async.js'
import { balances, getBalance } from '../support/getBalance.js'

// Endpoint health against a real node: three fault proxies in front of one anvil. Heartbeats run
// every 50 ms so that state changes show within a few hundred ms; nothing asserts on wall-clock time.

const HEARTBEAT = { interval: 50, timeout: 300, failuresToDown: 2 }
const node = useProxiedAnvil({ http: 3, snapshot: true, pool: { attemptTimeout: 500, heartbeat: HEARTBEAT, maxLag: 2 } })
const [A, B, C] = [0, 1, 2]

const status = (p: Pool, i: number) => p.stats().endpoints[i]!.status
describe('without a configured chain id', () => {
  it('a pool of a live endpoint and a dead one serves from the live one, about a second after it answered, and says which chain it adopted', async () => {
    const adopted: unknown[] = []
    const p = node.pool({ chainId: undefined, endpoints: [node.http[A]!, 'http://127.0.0.1:9'] })
    p.on('chain:adopted', (e) => adopted.push(e))
    await expect(p.request('eth_chainId', [], { timeout: 5_000 })).resolves.toBe('0x7a69')
    expect(adopted).toEqual([{ chainId: 31337n, endpoints: ['A'] }])
    expect(p.stats().endpoints.map((e) => e.status)).toEqual(['up', expect.stringMatching(/connecting|down/)])
  })
})

describe('endpoint health against anvil', () => {
  it('a lagging endpoint gets no latest-state reads, may serve pinned ones, and comes back when it catches up', async () => {
    const p = await node.pool({ strategy: 'weighted-round-robin' }, { ready: 3 })
    // Freeze B's view of the chain, then let the chain move on.
    await freezeHead(node.http[B]!)
    await node.anvil.mine(5)
    await waitFor(() => status(p, B) === 'lagging', 'B to be lagging')
    expect(p.stats().endpoints[B]!.lag).toBe(5n)

    node.http[B]!.resetCounts()
    for (let i = 0; i < 12; i++) await getBalance(p, i)
    expect(balances(node.http[B]!)).toBe(0)
    // A read pinned to a block B has may go to B (round-robin makes sure it is offered some).
    const frozen = p.stats().endpoints[B]!.head!
    for (let i = 0; i < 12; i++) await getBalance(p, i, `0x${frozen.toString(16)}`)
    expect(balances(node.http[B]!)).toBeGreaterThan(0)

    node.http[B]!.setMode({ kind: 'pass' })
    await waitFor(() => status(p, B) === 'up', 'B to catch up')
    node.http[B]!.resetCounts()
    for (let i = 0; i < 12; i++) await getBalance(p, i)
    expect(balances(node.http[B]!)).toBeGreaterThan(0)
  })

  it('a wrong-chain endpoint is quarantined and never serves', async () => {
    node.http[C]!.setMode({ kind: 'wrongChain', chainId: 999 })
    const p = node.pool()
    const events: string[] = []
    p.on('endpoint:state', (e) => events.push(`${e.endpoint} ${e.from}->${e.to} ${e.reason?.code ?? ''}`.trim()))
    await p.ready({ minHealthy: 2, timeout: 5_000 })
    await waitFor(() => status(p, C) === 'quarantined', 'C to be quarantined')
    for (let i = 0; i < 20; i++) await getBalance(p, i)
    expect(balances(node.http[C]!)).toBe(0)
    const c = p.stats().endpoints[C]!
    expect(c).toMatchObject({ status: 'quarantined', chainId: 999n, lastError: { code: 'CHAIN_MISMATCH' } })
    expect(c.statusReason).toMatch(/chain 999, the pool on chain 31337/)
    expect(p.stats().chainId).toBe(31337n)
    expect(events).toContain('C connecting->quarantined CHAIN_MISMATCH')
    // Quarantine is for the pool's life: heartbeats stop, so even fixing the proxy changes nothing.
    const pings = node.http[C]!.count()
    node.http[C]!.setMode({ kind: 'pass' })
    await new Promise((r) => setTimeout(r, 200))
    expect(node.http[C]!.count()).toBe(pings)
    expect(status(p, C)).toBe('quarantined')
  })

  it('an endpoint whose URL starts answering for another chain is quarantined at its next chain re-check', async () => {
    const p = node.pool({ heartbeat: { ...HEARTBEAT, chainCheckInterval: 300 } })
    const events: string[] = []
    p.on('endpoint:state', (e) => events.push(`${e.endpoint} ${e.from}->${e.to} ${e.reason?.code ?? ''}`.trim()))
    await p.ready({ minHealthy: 3, timeout: 5_000 })
    // The load balancer behind C's URL now routes to a node of another chain.
    node.http[C]!.setMode({ kind: 'wrongChain', chainId: 999 })
    await waitFor(() => status(p, C) === 'quarantined', 'C to be quarantined')
    expect(events).toContain('C up->quarantined CHAIN_MISMATCH')
    expect(p.stats().endpoints[C]).toMatchObject({ chainId: 999n, lastError: { code: 'CHAIN_MISMATCH' } })
    node.http[C]!.resetCounts()
    for (let i = 0; i < 12; i++) await getBalance(p, i)
    expect(balances(node.http[C]!)).toBe(0)
    expect(status(p, A)).toBe('up')
  })

  it('ready() resolves with one of three up, and rejects in time naming each endpoint when all are down', async () => {
    node.http[B]!.setMode({ kind: 'hang' })
    node.http[C]!.setMode({ kind: 'reset' })
    const p = node.pool({ chainId: 31337 })
    await p.ready({ minHealthy: 1, timeout: 5_000 })
    expect(p.stats().endpoints.map((e) => e.status)).toEqual(['up', 'connecting', expect.stringMatching(/connecting|down/)])
    const error = await p.ready({ minHealthy: 2, timeout: 400 }).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'NOT_READY')).toBe(true)
    expect((error as { excluded: { endpoint: string }[] }).excluded.map((e) => e.endpoint)).toEqual(['B', 'C'])

    await p.destroy()
    for (const x of node.http) x.setMode({ kind: 'reset' })
    const q = node.pool({ chainId: 31337 })
    const all = await q.ready({ timeout: 400 }).catch((e: unknown) => e)
    expect(all).toMatchObject({ code: 'NOT_READY', excluded: [{ endpoint: 'A' }, { endpoint: 'B' }, { endpoint: 'C' }] })
    expect((all as Error).message).toMatch(/A: (down|connecting): Network error/)
  })

  it('a pool created with every endpoint down serves as soon as one recovers', async () => {
    for (const x of node.http) x.setMode({ kind: 'reset' })
    const p = node.pool({ chainId: 31337 })
    const pending = getBalance(p).then(
      (v) => ({ ok: v }),
      (e: unknown) => ({ error: e }),
    )
    await waitFor(() => status(p, A) === 'down', 'A to be down')
    node.http[A]!.setMode({ kind: 'pass' })
    expect(await pending).toEqual({ ok: '0x0' })
  })

  it('a request while nothing is healthy waits until its deadline, then lists why each endpoint is out', async () => {
    for (const x of node.http) x.setMode({ kind: 'http500' })
    const p = node.pool({ chainId: 31337 })
    const error = await p.request('eth_getBalance', ['0x'.padEnd(42, '1'), 'latest'], { timeout: 400 }).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'NO_ENDPOINT')).toBe(true)
    expect((error as { excluded: { endpoint: string; reason: string }[] }).excluded.map((e) => e.endpoint)).toEqual(['A', 'B', 'C'])
  })

  it('one lying endpoint does not mark the honest ones lagging, and serves no latest read', async () => {
    node.http[C]!.setMode({ kind: 'lie', ahead: 1_000 })
    const p = await node.pool({}, { ready: 3 })
    await waitFor(() => status(p, C) === 'ahead', 'C to be seen ahead')
    const real = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
    expect(p.stats().referenceHead).toBe(real)
    expect([status(p, A), status(p, B)]).toEqual(['up', 'up'])
    for (let i = 0; i < 10; i++) await p.request('eth_blockNumber')
    expect(BigInt(await p.request<string>('eth_blockNumber'))).toBe(real)
    expect(node.http[C]!.methodCounts()['eth_blockNumber']).toBeGreaterThan(0) // heartbeats only
    for (let i = 0; i < 10; i++) await getBalance(p, i)
    expect(balances(node.http[C]!)).toBe(0)
  })

  it('eth_blockNumber through the pool never goes backwards while endpoints lag and recover', async () => {
    const p = await node.pool({}, { ready: 3 })
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ stale: fc.integer({ min: 0, max: 2 }) }), fc.record({ recover: fc.integer({ min: 0, max: 2 }) }), fc.record({ mine: fc.integer({ min: 1, max: 3 }) })), { minLength: 3, maxLength: 8 }),
        async (steps) => {
          let last = -1n
          for (const step of steps) {
            if ('stale' in step) await freezeHead(node.http[step.stale]!)
            if ('recover' in step) node.http[step.recover]!.setMode({ kind: 'pass' })
            if ('mine' in step) await node.anvil.mine(step.mine)
            for (let i = 0; i < 4; i++) {
              const head = BigInt(await p.request<string>('eth_blockNumber'))
              expect(head).toBeGreaterThanOrEqual(last)
              last = head
              await new Promise((r) => setTimeout(r, 15))
            }
          }
        },
      ),
      { numRuns: 6 },
    )
  })

  it('follows an anvil_rollback with exactly one chain:reorg', async () => {
    const p = node.pool()
    const reorgs: { from: bigint; to: bigint }[] = []
    p.on('chain:reorg', (e) => reorgs.push(e))
    await p.ready({ minHealthy: 3, timeout: 5_000 })
    const base = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
    await node.anvil.mine(6)
    await waitFor(() => p.stats().referenceHead === base + 6n, 'the reference head to reach the tip')
    expect(BigInt(await p.request<string>('eth_blockNumber'))).toBe(base + 6n)
    await node.anvil.rpc('anvil_rollback', [4])
    await waitFor(() => reorgs.length > 0, 'a reorg')
    // A few more heartbeats: the reorg is reported once, not once per endpoint or per ping.
    await new Promise((r) => setTimeout(r, 300))
    expect(reorgs).toEqual([{ from: base + 6n, to: base + 2n }])
    expect(p.stats().referenceHead).toBe(base + 2n)
    expect(BigInt(await p.request<string>('eth_blockNumber'))).toBe(base + 2n)
  })

  it('marks a dead endpoint down through heartbeats alone, and brings it back', async () => {
    const p = await node.pool({}, { ready: 3 })
    const transitions: string[] = []
    p.on('endpoint:state', (e) => e.endpoint === 'B' && transitions.push(`${e.from}->${e.to}`))
    node.http[B]!.setMode({ kind: 'reset' })
    await waitFor(() => status(p, B) === 'down', 'B down')
    expect(p.stats().endpoints[B]!.lastError?.code).toBe('NETWORK')
    node.http[B]!.setMode({ kind: 'pass' })
    await waitFor(() => status(p, B) === 'up', 'B up')
    expect(transitions).toEqual(['up->down', 'down->up'])
    // Coming back is a new connection: its chain id was checked again.
    expect(node.http[B]!.methodCounts()['eth_chainId']).toBeGreaterThanOrEqual(2)
  })

  it('stopping the pool mid-heartbeat leaves nothing running, even with ref()ed heartbeat timers', async () => {
    node.http[A]!.setMode({ kind: 'hang' })
    const result = await runInChild('test/integration/fixtures/destroyMidHeartbeat.ts', { env: { ENDPOINT: node.http[A]!.url }, timeout: 10_000 })
    expect(result.stderr).toBe('')
    expect(result.stdout.trim()).toBe('destroyed with a ping in flight')
    expect(result.exitedOnItsOwn).toBe(true)
    expect(result.code).toBe(0)
  })
})
