import { getAddress } from 'ethers'
import { describe, expect, it } from 'vitest'
import { createContract, isResilientRpcError, resolveBlock, waitForTransaction } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { deployCounter } from '../support/counter.js'
import { DEV_ACCOUNT } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// Confirmation depth from a fresh head, against anvil behind three fault proxies, with the pool's
// default options (no chainId, a heartbeat every 2 s): the chain moves by transactions and blocks
// sent straight to anvil, and nothing passes through the pool in between, so the pool's reference
// head is a heartbeat old when the read comes.

const node = useProxiedAnvil({ http: 3, snapshot: true, mine: 10 })
const hex = (n: bigint) => `0x${n.toString(16)}`
const anvilHead = async () => BigInt(await node.anvil.rpc<string>('eth_blockNumber'))

describe('confirmation depth from a fresh head', () => {
  it('deploy, mine 4, read at confirmations: 3 at once: the value', async () => {
    const p = await node.pool(undefined, { ready: 3 })
    const before = node.calls('eth_blockNumber')
    const address = await deployCounter(node.anvil, 7n)
    await node.anvil.mine(4)
    const counter = createContract(p, address, counterAbi)
    expect(await counter.read('value', [], { confirmations: 3 })).toBe(7n)
    // One round: every endpoint asked once (heartbeats may add a ping or two in between).
    expect(node.calls('eth_blockNumber') - before).toBeGreaterThanOrEqual(3)
    expect(p.referenceHead()).toBe(await anvilHead())
  })

  it('resolveBlock at depth right after blocks were mined counts from the chain\'s head', async () => {
    const p = await node.pool(undefined, { ready: 3 })
    await node.anvil.mine(6)
    const head = await anvilHead()
    expect(await resolveBlock(p, { confirmations: 2 })).toBe(hex(head - 2n))
  })

  it('no code at the address: NO_CODE naming the address and the block read, at latest and at depth', async () => {
    const p = await node.pool(undefined, { ready: 3 })
    const nowhere = createContract(p, '0x000000000000000000000000000000000000dead', counterAbi)
    const latest = await nowhere.read('value').catch((e: unknown) => e)
    expect(isResilientRpcError(latest, 'NO_CODE')).toBe(true)
    expect(latest).toMatchObject({ address: '0x000000000000000000000000000000000000dEaD', block: 'latest' })
    expect((latest as Error).message).toBe('value: no contract code at 0x000000000000000000000000000000000000dEaD in block latest')

    // Deployed just now: three blocks down, it is not there yet.
    const address = getAddress(await deployCounter(node.anvil, 7n))
    const deep = await createContract(p, address, counterAbi)
      .read('value', [], { confirmations: 3 })
      .catch((e: unknown) => e)
    expect(deep).toMatchObject({ code: 'NO_CODE', address, block: hex((await anvilHead()) - 3n) })
    expect(JSON.parse(JSON.stringify(deep))).toMatchObject({ code: 'NO_CODE', address, block: hex((await anvilHead()) - 3n) })
  })

  it('waitForTransaction right after mining counts the depth from the fresh head: at its first poll', async () => {
    const p = await node.pool(undefined, { ready: 3 })
    const { transactionHash, blockNumber } = await node.anvil.transact({ from: DEV_ACCOUNT, to: DEV_ACCOUNT, value: '0x1' })
    await node.anvil.mine(3)
    // A poll a minute: only the first one can answer within the deadline.
    const receipt = await waitForTransaction(p, transactionHash, { confirmations: 4, pollInterval: 60_000, timeout: 5_000 })
    expect(receipt).toMatchObject({ transactionHash, blockNumber })
    expect(node.calls('eth_getTransactionReceipt')).toBe(1)
  })
})
