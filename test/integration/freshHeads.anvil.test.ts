import fc from 'fast-check'
import { Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { DEV_ACCOUNT } from '../support/devAccounts.js'
import { freezeHead } from '../support/freezeHead.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { waitFor } from '../support/async.js'

// Fresh heads through the pool, against anvil behind three fault proxies, with default options (no
// chainId, heartbeats every 2 s): once the pool has seen a head, no latest read is answered from an
// older state, although the pool learns heads between heartbeats only from answers. Ground truth is
// read from anvil directly.

const node = useProxiedAnvil({ http: 3, ws: 1, counter: 5n, snapshot: true })
const [A, B, C] = [0, 1, 2]
const counter = new Interface(counterAbi)
const RECIPIENT = '0x00000000000000000000000000000000000000aa'

const hexBlock = (n: bigint) => `0x${n.toString(16)}`

/** The latest-state reads of the issue, each with what it returns and how to compare it with the truth. */
function reads(counterAddress: string, from: bigint) {
  const value = counter.encodeFunctionData('value')
  const increment = { from: DEV_ACCOUNT, to: counterAddress, data: counter.encodeFunctionData('increment') }
  return [
    { method: 'eth_call', params: [{ to: counterAddress, data: value }, 'latest'] },
    { method: 'eth_getBalance', params: [RECIPIENT, 'latest'] },
    { method: 'eth_getTransactionCount', params: [DEV_ACCOUNT, 'latest'] },
    { method: 'eth_getStorageAt', params: [counterAddress, '0x0', 'latest'] },
    { method: 'eth_getCode', params: [counterAddress, 'latest'] },
    { method: 'eth_getBlockByNumber', params: ['latest', false], pick: (b: { number: string }) => BigInt(b.number) },
    { method: 'eth_getLogs', params: [{ address: counterAddress, fromBlock: hexBlock(from), toBlock: 'latest' }], pick: (logs: unknown[]) => logs.length },
    { method: 'eth_estimateGas', params: [increment] },
  ] as Array<{ method: string; params: unknown[]; pick?: (x: never) => unknown }>
}

describe('heads from answers against anvil', () => {
  it('heads pushed over a WebSocket subscription move the endpoint\'s known head between heartbeats', async () => {
    // No heartbeat for a minute, and no keepalive verdict that could drop the socket on a loaded
    // machine (a dropped endpoint would wait for that heartbeat to come back).
    const p = await node.pool({ endpoints: [node.ws[0]!], heartbeat: { interval: 60_000 }, webSocket: { keepalive: false } }, { ready: 1 })
    const sources: string[] = []
    p.on('subscription:source', (e) => sources.push(e.kind))
    const heads: bigint[] = []
    const stop = p.subscribe('newHeads', (h) => heads.push(BigInt(h.number)))
    await waitFor(() => sources.includes('websocket'), 'the subscription on the WebSocket')
    const before = p.stats().endpoints[0]!.head!
    await node.anvil.mine(3)
    await waitFor(() => heads.length >= 3, 'three heads', 10_000)
    stop()
    // No heartbeat since ready(), no request: only the notifications can have told it.
    expect(p.stats().endpoints[0]!.head).toBe(before + 3n)
  })
})

describe('the read floor against anvil', () => {
  it('one endpoint frozen, the chain 20 blocks on: after the first answer carrying the new head, none of 300 mixed latest reads is stale', async () => {
    const p = await node.pool({ endpoints: node.http }, { ready: 3 })
    const start = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
    await freezeHead(node.http[C]!)
    // The state changes in the first new block, then 19 more blocks.
    await node.anvil.transact({ from: DEV_ACCOUNT, to: RECIPIENT, value: '0x2a' })
    await node.anvil.transact({ from: DEV_ACCOUNT, to: node.counter, data: counter.encodeFunctionData('increment') })
    await node.anvil.mine(18)
    const head = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
    expect(head).toBe(start + 20n)

    // The first answer through the pool that carries the new head (C answers the old one).
    // (A head only one endpoint has shown is not returned while a majority could outvote it: the
    // pool returns it once a second endpoint has shown it too.)
    let seen = 0n
    for (const until = Date.now() + 10_000; seen < head && Date.now() < until; ) seen = BigInt(await p.request<string>('eth_blockNumber'))
    expect(seen).toBe(head)

    const all = reads(node.counter, start)
    const truth = await Promise.all(all.map(async (r) => {
      const answer = await node.anvil.rpc(r.method, r.params)
      return r.pick ? r.pick(answer as never) : answer
    }))
    node.http[C]!.resetCounts()
    const stale: string[] = []
    // In bursts of 20 at once, as a page loading its state sends them: spread over every endpoint the
    // pool thinks current before any of their answers can teach it more.
    for (let burst = 0; burst < 15; burst++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, j) => {
          const k = (burst * 20 + j) % all.length
          const r = all[k]!
          const answer = await p.request(r.method, r.params)
          const got = r.pick ? r.pick(answer as never) : answer
          if (r.method === 'eth_getBlockByNumber' ? (got as bigint) < (truth[k] as bigint) : got !== truth[k]) stale.push(`${r.method}: ${String(got)} (now ${String(truth[k])})`)
        }),
      )
    }
    console.info(`one endpoint frozen: ${stale.length} stale of 300 latest reads (${node.http[C]!.count()} reached the frozen node)`)
    expect(stale).toEqual([])
    // Nothing added a block parameter where there was none, and the estimate was not asked of the frozen node.
    expect(node.http[C]!.methodCounts()['eth_estimateGas'] ?? 0).toBe(0)
  })

  it('(property) under random freezes, recoveries and blocks, no latest read reflects a block below one already returned', async () => {
    const p = await node.pool({ endpoints: node.http }, { ready: 3 })
    // Each block pays RECIPIENT 1 wei more: a balance tells which block's state a read saw.
    const balanceAt = new Map<bigint, bigint>()
    const record = async () => {
      const block = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
      balanceAt.set(block, BigInt(await node.anvil.rpc<string>('eth_getBalance', [RECIPIENT, 'latest'])))
    }
    await record()
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ freeze: fc.integer({ min: 0, max: 2 }) }), fc.record({ recover: fc.integer({ min: 0, max: 2 }) }), fc.record({ blocks: fc.integer({ min: 1, max: 3 }) })), { minLength: 3, maxLength: 8 }),
        async (steps) => {
          let returned = 0n
          for (const step of steps) {
            if ('freeze' in step) await freezeHead(node.http[step.freeze]!)
            if ('recover' in step) node.http[step.recover]!.setMode({ kind: 'pass' })
            if ('blocks' in step) {
              for (let i = 0; i < step.blocks; i++) {
                await node.anvil.transact({ from: DEV_ACCOUNT, to: RECIPIENT, value: '0x1' })
                await record()
              }
            }
            for (let i = 0; i < 6; i++) {
              const head = BigInt(await p.request<string>('eth_blockNumber'))
              if (head > returned) returned = head
              const balance = BigInt(await p.request<string>('eth_getBalance', [RECIPIENT, 'latest']))
              // Never the state of a block older than the newest head the pool has returned.
              expect(balance).toBeGreaterThanOrEqual(balanceAt.get(returned) ?? 0n)
            }
          }
        },
      ),
      { numRuns: 6 },
    )
    for (const i of [A, B, C]) node.http[i]!.setMode({ kind: 'pass' })
  })
})
