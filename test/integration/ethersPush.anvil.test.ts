import { Contract, type ContractEventPayload } from 'ethers'
import { describe, expect, it } from 'vitest'
import { createEthersProvider } from '../../src/adapters/ethers.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { waitFor } from '../support/async.js'
import { DEV_ACCOUNT } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { Interface } from 'ethers'

// The ethers adapter over a pool of WebSocket endpoints: `block` and contract events are pushed by
// the pool's subscriptions, not polled by ethers every 4 s (its default pollingInterval, kept here).

const node = useProxiedAnvil({ ws: 2, counter: 0n, snapshot: true })
const counterInterface = new Interface(counterAbi)

describe('ethers with push', () => {
  it("provider.on('block') hears each block within 500 ms of it being mined, and contract.on each event once across a socket drop, with no polling by ethers", async () => {
    const pool = await node.pool({ endpoints: node.ws }, { ready: 2 })
    const provider = node.track(createEthersProvider(pool))
    const sent: string[] = []
    await provider.on('debug', (e: { action: string; payload?: { method?: string } }) => e.action === 'sendRpcPayload' && sent.push(e.payload?.method ?? ''))
    const heard = new Map<number, number>()
    await provider.on('block', (n: number) => heard.set(n, Date.now()))
    const values: bigint[] = []
    await new Contract(node.counter, counterAbi, provider).on('ValueChanged', (...args: unknown[]) => values.push((args.at(-1) as ContractEventPayload).args[1] as bigint))
    await waitFor(() => heard.size > 0, 'the first block')
    const lags: number[] = []
    for (let i = 1n; i <= 6n; i++) {
      if (i === 3n) node.ws[0]!.setMode({ kind: 'drop' })
      if (i === 5n) node.ws[0]!.setMode({ kind: 'pass' })
      const minedAt = Date.now()
      const { blockNumber } = await node.anvil.transact({ from: DEV_ACCOUNT, to: node.counter, data: counterInterface.encodeFunctionData('set', [i]) })
      const n = Number(BigInt(blockNumber))
      await waitFor(() => heard.has(n), `block ${n}`, 5_000)
      lags.push(heard.get(n)! - minedAt)
    }
    await waitFor(() => values.length >= 6, 'six events')
    expect(values).toEqual([1n, 2n, 3n, 4n, 5n, 6n])
    // Within one block time (here: on demand) + 500 ms, socket drop included.
    expect(lags.filter((ms) => ms > 500)).toEqual([])
    expect(sent.filter((m) => m === 'eth_blockNumber' || m === 'eth_getFilterChanges' || m === 'eth_newFilter' || m === 'eth_getLogs')).toEqual([])
  }, 60_000)
})
