import { JsonRpcProvider, Transaction, Wallet, type TransactionRequest } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createOutbox, type OutboxState } from '../../src/index.js'
import { resetProxies, waitFor } from '../support/async.js'
import { SECOND_KEY } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// The outbox against anvil through three fault proxies: a transaction sent while every endpoint is
// down is mined once they recover, exactly once; a transaction whose nonce another one took is replaced.
// Everything checked on the chain goes straight to anvil.

const RECIPIENT = '0x000000000000000000000000000000000000bEEF'

const node = useProxiedAnvil({
  http: 3,
  snapshot: true,
  keyed: true,
  pool: { attemptTimeout: 400, defaultTimeout: 2_000, heartbeat: { interval: 50, timeout: 300 }, breaker: { resetTimeout: 300, volumeThreshold: 3 }, chainId: 31337 },
})
let direct: JsonRpcProvider
const sender = new Wallet(SECOND_KEY)

beforeAll(() => {
  direct = new JsonRpcProvider(node.anvil.url, 31337, { staticNetwork: true, polling: false, batchMaxCount: 1, cacheTimeout: -1 })
})

afterAll(() => {
  direct.destroy()
})

afterEach(async () => {
  await node.anvil.rpc('evm_setAutomine', [true])
})

async function sign(overrides: TransactionRequest = {}): Promise<string> {
  const nonce = await direct.getTransactionCount(sender.address, 'pending')
  return sender.signTransaction({ to: RECIPIENT, value: 1_000n, nonce, gasLimit: 21_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, chainId: 31337n, type: 2, ...overrides })
}

describe('outbox against anvil', () => {
  it('a transaction sent while every endpoint is down is mined once they recover, exactly once', async () => {
    const p = await node.pool({}, { ready: 3 })
    for (const proxy of node.http) proxy.setMode({ kind: 'reset' })
    await waitFor(() => p.stats().endpoints.every((e) => e.status === 'down'), 'every endpoint down')
    const nonceBefore = await direct.getTransactionCount(sender.address)
    const balanceBefore = await direct.getBalance(RECIPIENT)
    const states: OutboxState[] = []
    let gaveUp = 0
    p.on('request:error', ({ method, error }) => void (method === 'eth_sendRawTransaction' && error.code === 'NO_ENDPOINT' && gaveUp++))
    // A long interval: once the first round has given up, only an endpoint coming back up can explain
    // a prompt broadcast after recovery.
    const outbox = createOutbox(p, { rebroadcastInterval: 60_000, pollInterval: 100 })
    node.defer(() => outbox.close())
    const signed = await sign()
    const handle = await outbox.send(signed, { confirmations: 2, timeout: 30_000, onState: (s) => states.push(s) })
    expect(handle.hash).toBe(Transaction.from(signed).hash)
    // Down for a while (the heartbeats keep knocking at every proxy); nothing reached anvil.
    for (const proxy of node.http) proxy.resetCounts()
    await waitFor(() => node.http.every((proxy) => proxy.count() >= 10), 'ten failed heartbeats per endpoint')
    await waitFor(() => gaveUp === 1, 'the first broadcast round to give up (no endpoint within the pool deadline)')
    expect(handle.state.status).toBe('queued')
    expect(await direct.getTransactionCount(sender.address)).toBe(nonceBefore)

    resetProxies(...node.http)
    await waitFor(() => handle.state.status === 'mined', 'the transaction to be mined', 10_000)
    await node.anvil.mine(1)
    const final = await handle.done
    expect(final).toMatchObject({ status: 'confirmed', confirmations: 2n, reverted: false })
    expect(states.map((s) => s.status)).toEqual(expect.arrayContaining(['queued', 'accepted', 'mined', 'confirmed']))
    expect(node.calls('eth_sendRawTransaction')).toBeGreaterThanOrEqual(1)
    // Exactly once: one nonce used, one transfer made, and the receipt anvil holds is ours.
    expect(await direct.getTransactionCount(sender.address)).toBe(nonceBefore + 1)
    expect(await direct.getBalance(RECIPIENT)).toBe(balanceBefore + 1_000n)
    const receipt = await direct.getTransactionReceipt(handle.hash)
    expect(receipt?.blockNumber).toBe(Number((final as { blockNumber: bigint }).blockNumber))
  })

  it('reports a transaction as replaced when another one with its nonce is mined', async () => {
    const p = await node.pool({}, { ready: 3 })
    await node.anvil.rpc('evm_setAutomine', [false])
    const outbox = createOutbox(p, { rebroadcastInterval: 200, pollInterval: 100 })
    node.defer(() => outbox.close())
    const ours = await sign()
    const handle = await outbox.send(ours, { confirmations: 1, timeout: 30_000 })
    await waitFor(() => handle.state.status === 'accepted', 'the transaction to be accepted')
    // Same nonce, higher fees, sent straight to the node: it replaces ours in the mempool and is mined.
    const nonce = Transaction.from(ours).nonce
    const replacement = await sign({ nonce, to: sender.address, value: 0n, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 5_000_000_000n })
    const replacementHash = await node.anvil.rpc<string>('eth_sendRawTransaction', [replacement])
    await node.anvil.mine(1)
    await expect(handle.done).resolves.toEqual({ status: 'replaced', nonce })
    expect(await direct.getTransactionReceipt(handle.hash)).toBeNull()
    expect(await direct.getTransactionReceipt(replacementHash)).not.toBeNull()
    expect(await direct.getTransactionCount(sender.address)).toBe(nonce + 1)
  })
})
