import { Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { DEV_ACCOUNT } from '../support/devAccounts.js'
import type { FaultProxy } from '../support/faultProxy.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// Reads pinned to a block number through three fault proxies in front of one anvil, one of them a
// node that stopped syncing (`stale`: it answers as geth does for blocks past its head). Heartbeats
// are rare on purpose: the pool still believes every endpoint is at the old head, so the stale one is
// offered reads of the new blocks and must be asked around, not merely avoided. Ground truth is
// anvil's own answer to the same request. No hedging: each answer of the stale endpoint is then one
// retry, which makes "asked elsewhere" countable.

const node = useProxiedAnvil({ http: 3, counter: 1n, snapshot: true, pool: { heartbeat: { interval: 60_000 }, hedge: false } })
const [A] = [0]
const counter = new Interface(counterAbi)
const hex = (n: bigint) => `0x${n.toString(16)}`
const address = (i: number) => `0x${(0x1000 + i).toString(16).padStart(40, '0')}`

/** Freezes the proxy's head where the chain is now; one request through it waits for that read. */
async function freeze(proxy: FaultProxy): Promise<bigint> {
  proxy.setMode({ kind: 'stale' })
  const reply = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) })
  return BigInt(((await reply.json()) as { result: string }).result)
}

/** Requests that read block `n` (pinned by number, or a log range ending there), each different. */
function readsAt(n: bigint, from: bigint, i: number): Array<[string, unknown[]]> {
  const at = hex(n)
  const value = counter.encodeFunctionData('value')
  return [
    ['eth_getBalance', [address(i), at]],
    ['eth_getTransactionCount', [DEV_ACCOUNT, at]],
    ['eth_getCode', [node.counter, at]],
    ['eth_getStorageAt', [node.counter, '0x0', at]],
    ['eth_call', [{ to: node.counter, data: value }, at]],
    ['eth_call', [{ to: node.counter, data: value }, { blockNumber: at }]],
    ['eth_getBlockByNumber', [at, false]],
    ['eth_getBlockReceipts', [at]],
    ['eth_getBlockTransactionCountByNumber', [at]],
    ['eth_getLogs', [{ address: node.counter, fromBlock: hex(from), toBlock: at }]],
  ]
}

/** Each read through the pool, at once, and the same read straight to anvil afterwards. */
async function compare(p: Pool, reads: Array<[string, unknown[]]>): Promise<void> {
  const got = await Promise.all(reads.map(([method, params]) => p.request(method, params)))
  const want = await Promise.all(reads.map(([method, params]) => node.anvil.rpc(method, params)))
  for (const [i, [method, params]] of reads.entries()) expect(got[i], `${method} ${JSON.stringify(params)}`).toEqual(want[i])
}

/** Requests the proxy received other than heartbeats. */
const reads = (proxy: FaultProxy) => Object.entries(proxy.methodCounts()).reduce((n, [m, c]) => (m === 'eth_blockNumber' || m === 'eth_chainId' ? n : n + c), 0)

describe('reads pinned to a block', () => {
  it('a stale endpoint serves the blocks it has, and a read of a block it lacks is asked elsewhere with anvil\'s answer', async () => {
    const p = await node.pool({}, { ready: 3 })
    const retriedFromA: number[] = []
    const failed: string[] = []
    p.on('request:retry', (e) => e.endpoint === 'A' && retriedFromA.push(e.attempt))
    p.on('request:error', (e) => failed.push(`${e.method}: ${e.error.message}`))
    const frozen = await freeze(node.http[A]!)

    // Blocks it has: it serves them like the others.
    node.http[A]!.resetCounts()
    await compare(p, [0n, 1n, frozen].flatMap((n, i) => readsAt(n, 0n, i)))
    expect(reads(node.http[A]!)).toBeGreaterThan(0)
    expect(retriedFromA).toEqual([])

    // The chain moves on without it: values change in every new block (the counter, a balance, logs).
    for (let k = 1; k <= 4; k++) {
      await node.anvil.transact({ from: DEV_ACCOUNT, to: node.counter, data: counter.encodeFunctionData('set', [100n + BigInt(k)]) })
      await node.anvil.transact({ from: DEV_ACCOUNT, to: address(k), value: hex(BigInt(k)) })
    }
    await node.anvil.mine(2)
    const head = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
    expect(head).toBe(frozen + 10n)

    node.http[A]!.resetCounts()
    const newBlocks = Array.from({ length: Number(head - frozen) }, (_, i) => frozen + 1n + BigInt(i))
    const pinned = newBlocks.flatMap((n, i) => readsAt(n, frozen + 1n, i))
    await compare(p, pinned)
    expect(failed).toEqual([])
    // It was asked (the pool did not know it had stopped), refused, and each such read went elsewhere at once.
    const askedA = reads(node.http[A]!)
    expect(askedA).toBeGreaterThan(0)
    expect(retriedFromA).toHaveLength(askedA)
    expect(retriedFromA.every((attempt) => attempt === 1)).toBe(true)
    // None of it counts against it; what the others answered about the new blocks (heads from
    // answers) shows it is behind, so it is lagging before its next heartbeat says so.
    expect(p.stats().endpoints[A]).toMatchObject({ status: 'lagging', failures: 0, breaker: 'closed' })
  })

  it('a block no endpoint has: BLOCK_UNAVAILABLE with what each said, a block lookup null, each endpoint asked once', async () => {
    const p = await node.pool({}, { ready: 3 })
    await freeze(node.http[A]!)
    const future = hex(BigInt(await node.anvil.rpc<string>('eth_blockNumber')) + 100n)
    for (const proxy of node.http) proxy.resetCounts()

    const error = await p.request('eth_getBalance', [address(0), future]).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'BLOCK_UNAVAILABLE', block: BigInt(future), attempts: [{}, {}, {}] })
    // The stale node in geth's words, anvil in its own.
    const said = (error as { attempts: Array<{ endpoint: string; error: { rpcMessage: string } }> }).attempts.map((a) => `${a.endpoint}: ${a.error.rpcMessage}`).sort()
    expect(said).toEqual([
      'A: header not found',
      expect.stringMatching(/^B: BlockOutOfRangeError: block height is \d+ but requested was \d+$/),
      expect.stringMatching(/^C: BlockOutOfRangeError/),
    ])
    await expect(p.request('eth_getBlockByNumber', [future, false])).resolves.toBeNull()
    for (const proxy of node.http) expect(proxy.methodCounts()).toMatchObject({ eth_getBalance: 1, eth_getBlockByNumber: 1 })
  })
})
