import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, encodeFunctionData, type Log } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/index.js'
import { resilientTransport } from '../../src/viem/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { waitFor } from '../support/async.js'
import { DEV_ACCOUNT, DEV_KEY } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// resilient-rpc/viem against anvil behind two WebSocket and two HTTP fault proxies: viem's watchers
// ride pool.subscribe across socket drops, and viem's contract actions work with an endpoint hanging.
// Transactions under test go through viem; the ones that only make events go straight to anvil.

const node = useProxiedAnvil({ ws: 2, http: 2, counter: 0n, snapshot: true, pool: { heartbeat: { interval: 200, timeout: 300 } } })

/** Calls set(value) on the Counter straight to anvil (automine: one block, one ValueChanged). */
async function set(value: bigint): Promise<void> {
  await node.anvil.transact({ from: DEV_ACCOUNT, to: node.counter, data: encodeFunctionData({ abi: counterAbi, functionName: 'set', args: [value] }) })
}

const clientOf = (pool: Pool) => createPublicClient({ chain: foundry, transport: resilientTransport(pool) })

describe('resilient-rpc/viem on anvil', () => {
  it('watchBlockNumber and watchContractEvent hear every head and event exactly once across two socket drops, without viem polling', async () => {
    const pool = await node.pool({ endpoints: node.ws }, { ready: 2 })
    const client = clientOf(pool)
    const heads: bigint[] = []
    const values: bigint[] = []
    const errors: unknown[] = []
    const unwatchHeads = client.watchBlockNumber({ onBlockNumber: (n) => heads.push(n), onError: (e) => errors.push(e) })
    const unwatchEvents = client.watchContractEvent({
      address: node.counter as `0x${string}`,
      abi: counterAbi,
      eventName: 'ValueChanged',
      onLogs: (logs: Log[]) => values.push(...logs.map((l) => (l as unknown as { args: { current: bigint } }).args.current)),
      onError: (e) => errors.push(e),
    })
    await waitFor(() => heads.length > 0, 'the first head')
    const first = heads[0]!
    for (const proxy of node.ws) proxy.resetCounts()
    for (let i = 1n; i <= 12n; i++) {
      // Two drops, one per endpoint, each while blocks keep coming.
      if (i === 4n || i === 8n) node.ws[i === 4n ? 0 : 1]!.setMode({ kind: 'drop' })
      if (i === 6n || i === 10n) node.ws[i === 6n ? 0 : 1]!.setMode({ kind: 'pass' })
      await set(i)
    }
    const last = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
    await waitFor(() => heads.at(-1) === last && values.length >= 12, 'every head and event', 15_000)
    unwatchHeads()
    unwatchEvents()
    const expected = Array.from({ length: Number(last - first) + 1 }, (_, k) => first + BigInt(k))
    expect(heads).toEqual(expected)
    expect(values).toEqual(Array.from({ length: 12 }, (_, k) => BigInt(k + 1)))
    // viem neither polled the head nor kept a filter: it subscribed.
    const sent = node.ws.map((p) => p.methodCounts())
    for (const counts of sent) {
      expect(counts['eth_getFilterChanges'] ?? 0).toBe(0)
      expect(counts['eth_newFilter'] ?? 0).toBe(0)
    }
    expect(errors).toEqual([])
  }, 60_000)

  it('readContract, simulateContract, writeContract and waitForTransactionReceipt work with one endpoint hanging', async () => {
    const pool = await node.pool({ endpoints: node.http, attemptTimeout: 1_000, hedge: false }, { ready: 2 })
    node.http[0]!.setMode({ kind: 'hang' })
    const transport = resilientTransport(pool)
    const client = createPublicClient({ chain: foundry, transport })
    const wallet = createWalletClient({ chain: foundry, transport, account: privateKeyToAccount(DEV_KEY as `0x${string}`) })
    const address = node.counter as `0x${string}`
    const { request } = await client.simulateContract({ address, abi: counterAbi, functionName: 'set', args: [77n], account: wallet.account })
    const hash = await wallet.writeContract(request)
    const receipt = await client.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    expect(await client.readContract({ address, abi: counterAbi, functionName: 'value' })).toBe(77n)
    // A revert still decodes by name through the transport.
    const error = await client.readContract({ address, abi: counterAbi, functionName: 'failCustom', args: [42n] }).catch((e: unknown) => e)
    expect((error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)).toMatchObject({ data: { errorName: 'Unauthorized' } })
  }, 60_000)
})
