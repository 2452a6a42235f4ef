import { describe, expect, it } from 'vitest'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import type { BlockHeader, HeadsReorg, Pool, RpcLog, SubscriptionGap } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { deployCounter } from '../support/counter.js'
import { DEV_ACCOUNT } from '../support/devAccounts.js'
import { waitFor } from '../support/async.js'
import { Interface } from 'ethers'

// pool.subscribe against anvil's WebSocket endpoint through fault proxies, with blocks mined by the test.

// The pools' endpoints: both WebSocket proxies, then the HTTP one.
const node = useProxiedAnvil({ http: 1, ws: 2, pool: { chainId: 31337, attemptTimeout: 500, heartbeat: { interval: 100, timeout: 400 } } })

const headNumber = async () => BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
const canonicalHash = async (n: bigint) => (await node.anvil.rpc<{ hash: string }>('eth_getBlockByNumber', [`0x${n.toString(16)}`, false])).hash

/** Checks `heads` are every block from the first to the last, once each, on anvil's canonical chain. */
async function expectCanonicalRun(heads: readonly BlockHeader[]) {
  const numbers = heads.map((h) => BigInt(h.number))
  const first = numbers[0]!
  expect(numbers).toEqual(numbers.map((_, i) => first + BigInt(i)))
  for (const h of heads) expect(h.hash).toBe(await canonicalHash(BigInt(h.number)))
}

function collectSources(p: Pool) {
  const sources: string[] = []
  p.on('subscription:source', (e) => sources.push(e.kind === 'websocket' ? e.endpoint : 'polling'))
  return sources
}

describe('pool.subscribe("newHeads")', () => {
  it('sees every block exactly once across three forced reconnects (drop, silent, drop)', async () => {
    const p = await node.pool({}, { ready: 3 })
    const sources = collectSources(p)
    const heads: BlockHeader[] = []
    const errors: unknown[] = []
    const unsubscribe = p.subscribe('newHeads', (h) => heads.push(h), { onError: (e) => errors.push(e) })
    await waitFor(() => sources.some((s) => s.startsWith('ws')), 'a WebSocket source')
    await waitFor(() => heads.length > 0, 'the first head')

    for (let round = 0; round < 3; round++) {
      await node.anvil.mine(3)
      const serving = sources.at(-1)!
      const proxy = serving === 'ws0' ? node.ws[0]! : serving === 'ws1' ? node.ws[1]! : undefined
      // Drop (or silence) whichever socket serves the subscription, mine while it is gone, bring it back.
      proxy?.setMode({ kind: round === 1 ? 'silent' : 'drop' })
      await node.anvil.mine(4)
      await waitFor(() => sources.at(-1) !== serving, `a switch away from ${serving}`)
      proxy?.setMode({ kind: 'pass' })
      await node.anvil.mine(2)
    }
    const last = await headNumber()
    await waitFor(() => heads.length > 0 && BigInt(heads.at(-1)!.number) === last, `head ${last}`, 10_000)
    await expectCanonicalRun(heads)
    expect(sources.length).toBeGreaterThanOrEqual(4)
    unsubscribe()
    const delivered = heads.length
    await node.anvil.mine(2)
    await new Promise((r) => setTimeout(r, 300))
    expect(heads.length).toBe(delivered)
    expect(errors.filter((e) => (e as { code?: string }).code !== 'NETWORK')).toEqual([])
  })

  it('falls back to polling over HTTP when no WebSocket endpoint is up, and moves back when one is', async () => {
    const p = await node.pool({}, { ready: 3 })
    const sources = collectSources(p)
    const heads: BlockHeader[] = []
    p.subscribe('newHeads', (h) => heads.push(h), { pollInterval: 50 })
    await waitFor(() => heads.length > 0, 'the first head')
    node.ws[0]!.setMode({ kind: 'drop' })
    node.ws[1]!.setMode({ kind: 'drop' })
    await waitFor(() => sources.at(-1) === 'polling', 'polling')
    const before = node.http[0]!.methodCounts()['eth_getBlockByNumber'] ?? 0
    await node.anvil.mine(5)
    const last = await headNumber()
    await waitFor(() => BigInt(heads.at(-1)!.number) === last, `head ${last} by polling`)
    expect(node.http[0]!.methodCounts()['eth_getBlockByNumber'] ?? 0).toBeGreaterThan(before)
    node.ws[1]!.setMode({ kind: 'pass' })
    await waitFor(() => sources.at(-1) === 'ws1', 'back on ws1')
    await node.anvil.mine(3)
    const final = await headNumber()
    await waitFor(() => BigInt(heads.at(-1)!.number) === final, `head ${final}`)
    await expectCanonicalRun(heads)
  })

  it('reports a reorg before the heads that replace the removed ones', async () => {
    const p = await node.pool({}, { ready: 3 })
    const events: Array<{ head: BlockHeader } | { reorg: HeadsReorg }> = []
    p.subscribe('newHeads', (head) => events.push({ head }), { onReorg: (reorg) => events.push({ reorg }), pollInterval: 50 })
    await waitFor(() => events.length > 0, 'the first head')
    await node.anvil.mine(4)
    const tip = await headNumber()
    await waitFor(() => events.some((e) => 'head' in e && BigInt(e.head.number) === tip), `head ${tip}`)
    const oldHashes = [await canonicalHash(tip - 1n), await canonicalHash(tip)]
    // Replace the last two blocks with two others (anvil_reorg keeps the height, changes the hashes).
    await node.anvil.rpc('anvil_reorg', [2, []])
    await node.anvil.mine(1)
    const newTip = await headNumber()
    await waitFor(() => events.some((e) => 'head' in e && BigInt(e.head.number) === newTip), `head ${newTip} after the reorg`)
    const reorgAt = events.findIndex((e) => 'reorg' in e)
    expect(reorgAt).toBeGreaterThan(0)
    const reorg = (events[reorgAt] as { reorg: HeadsReorg }).reorg
    expect(reorg.removed.map((r) => r.hash)).toEqual(oldHashes)
    expect(reorg.ancestor?.number).toBe(tip - 2n)
    // After the notice: the replacement chain from the ancestor on, each block once, all canonical.
    const after = events.slice(reorgAt + 1).map((e) => (e as { head: BlockHeader }).head)
    expect(BigInt(after[0]!.number)).toBe(tip - 1n)
    await expectCanonicalRun(after)
  })

  it('past maxBackfill, a gap notice says what was skipped and delivery goes on', async () => {
    const p = await node.pool({ endpoints: [node.ws[0]!, node.http[0]!] }, { ready: 2 })
    const heads: BlockHeader[] = []
    const gaps: SubscriptionGap[] = []
    p.subscribe('newHeads', (h) => heads.push(h), { maxBackfill: 3, onGap: (g) => gaps.push(g), pollInterval: 60_000 })
    await waitFor(() => heads.length > 0, 'the first head')
    const seen = BigInt(heads.at(-1)!.number)
    // No WebSocket and (with a minute's poll interval) no polling: ten blocks go by unseen.
    node.ws[0]!.setMode({ kind: 'drop' })
    await waitFor(() => p.stats().endpoints[0]!.status !== 'up', 'ws0 down')
    await node.anvil.mine(10)
    node.ws[0]!.setMode({ kind: 'pass' })
    const last = await headNumber()
    await waitFor(() => BigInt(heads.at(-1)!.number) === last, `head ${last}`)
    expect(gaps).toEqual([{ from: seen + 1n, to: last - 3n, reason: expect.stringContaining('maxBackfill') }])
    const afterGap = heads.filter((h) => BigInt(h.number) > seen)
    expect(afterGap.map((h) => BigInt(h.number))).toEqual([last - 2n, last - 1n, last])
  })

  it('unsubscribe ends the node-side subscription; destroy() closes every socket', async () => {
    const p = await node.pool({}, { ready: 3 })
    const sources = collectSources(p)
    const unsubscribe = p.subscribe('newHeads', () => {})
    await waitFor(() => sources.some((s) => s.startsWith('ws')), 'a WebSocket source')
    const proxy = sources.at(-1) === 'ws0' ? node.ws[0]! : node.ws[1]!
    expect(proxy.methodCounts()['eth_subscribe']).toBe(1)
    unsubscribe()
    await waitFor(() => (proxy.methodCounts()['eth_unsubscribe'] ?? 0) === 1, 'eth_unsubscribe')
    p.subscribe('newHeads', () => {})
    await p.destroy()
    await waitFor(() => node.ws.every((w) => w.openConnections() === 0), 'every socket closed')
    expect(() => p.subscribe('newHeads', () => {})).toThrow(expect.objectContaining({ code: 'POOL_DESTROYED' }))
  })
})

describe('pool.subscribe("logs")', () => {
  it('delivers every log exactly once and in order across socket drops, backfilling with eth_getLogs', async () => {
    const p = await node.pool({}, { ready: 3 })
    const iface = new Interface(counterAbi)
    const address = await deployCounter(node.anvil)
    const ping = (n: number) => node.anvil.transact({ from: DEV_ACCOUNT, to: address, data: iface.encodeFunctionData('ping', [n, `0x${'ab'.repeat(32)}`]) })

    const sources = collectSources(p)
    const logs: RpcLog[] = []
    p.subscribe('logs', { address }, (log) => logs.push(log), { pollInterval: 50 })
    await waitFor(() => sources.some((s) => s.startsWith('ws')), 'a WebSocket source')
    await new Promise((r) => setTimeout(r, 200)) // the first backfill fixes the start
    for (let round = 0; round < 3; round++) {
      await ping(3)
      const serving = sources.at(-1)!
      const proxy = serving === 'ws0' ? node.ws[0] : serving === 'ws1' ? node.ws[1] : undefined
      proxy?.setMode({ kind: 'drop' })
      await ping(2)
      await waitFor(() => sources.at(-1) !== serving, `a switch away from ${serving}`)
      proxy?.setMode({ kind: 'pass' })
      await ping(1)
    }
    const emitted = await node.anvil.rpc<RpcLog[]>('eth_getLogs', [{ address, fromBlock: '0x0', toBlock: 'latest' }])
    expect(emitted).toHaveLength(18)
    await waitFor(() => logs.length >= emitted.length, `${emitted.length} logs`, 10_000)
    await new Promise((r) => setTimeout(r, 200))
    const key = (l: RpcLog) => `${BigInt(l.blockNumber)}:${BigInt(l.logIndex)}:${l.transactionHash}`
    expect(logs.map(key)).toEqual(emitted.map(key))
  })
})
