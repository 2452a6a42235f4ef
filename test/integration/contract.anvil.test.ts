import { JsonRpcProvider, Wallet, type TransactionRequest } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createContract, isResilientRpcError, resolveBlock, sendRawTransaction, waitForTransaction, type Contract, type TransactionState } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { waitFor } from '../support/async.js'
import { DEV_KEY, SECOND_KEY } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// Contract reads, confirmation depth, waiting and sending, against anvil through fault proxies.
// Set-up transactions go straight to anvil; everything under test goes through the pool.

const node = useProxiedAnvil({
  http: 3,
  counter: 1n,
  // History to read at depth: confirmation and finality reads below go back up to 64 blocks.
  mine: 70,
  snapshot: true,
  pool: { attemptTimeout: 500, heartbeat: { interval: 50, timeout: 300 }, chainId: 31337 },
})
let direct: JsonRpcProvider
let deployer: Wallet
const [A, B, C] = [0, 1, 2]

beforeAll(() => {
  direct = new JsonRpcProvider(node.anvil.url, 31337, { staticNetwork: true, polling: false, batchMaxCount: 1, cacheTimeout: -1 })
  deployer = new Wallet(DEV_KEY, direct)
})

afterAll(() => {
  direct.destroy()
})

afterEach(() => {
  // ethers caches nonces per wallet; the revert (the fixture's, after this hook) rewinds them.
  deployer = new Wallet(DEV_KEY, direct)
})

async function setValue(c: Contract, next: bigint): Promise<number> {
  const tx = await deployer.sendTransaction({ to: node.counter, data: c.encode('set', [next]) })
  const receipt = await tx.wait()
  return receipt!.blockNumber
}

describe('createContract against anvil', () => {
  it('reads decoded values', async () => {
    const p = await node.pool({}, { ready: 3 })
    const c = createContract(p, node.counter, counterAbi)
    expect(await c.read('value')).toBe(1n)
    expect(await c.read('owner')).toBe(deployer.address)
  })

  it('decodes a custom error, Error(string) and Panic, each sent once and never retried', async () => {
    const p = await node.pool({}, { ready: 3 })
    const c = createContract(p, node.counter, counterAbi)
    const custom = await c.read('failCustom', [42n]).catch((e: unknown) => e)
    expect(isResilientRpcError(custom, 'CALL_REVERTED')).toBe(true)
    expect(custom).toMatchObject({ functionName: 'failCustom', revert: { errorName: 'Unauthorized', signature: 'Unauthorized(address,uint256)' } })
    expect((custom as { revert: { args: unknown[] } }).revert.args[1]).toBe(42n)
    expect((custom as Error).message).toMatch(/^failCustom reverted: Unauthorized\(0x[0-9a-fA-F]{40}, 42\)/)
    expect(node.calls('eth_call')).toBe(1)

    await expect(c.read('failString')).rejects.toMatchObject({ code: 'CALL_REVERTED', revert: { errorName: 'Error', reason: 'counter: nope' } })
    await expect(c.read('failPanic', [0n])).rejects.toMatchObject({
      code: 'CALL_REVERTED',
      shortMessage: 'failPanic reverted: Panic(0x12): division or modulo by zero',
      revert: { errorName: 'Panic', args: [0x12n], panic: { code: 0x12n, name: 'division or modulo by zero' } },
    })
    // anvil quotes a custom error's data in its message as raw bytes: printed escaped, serialized whole.
    expect((custom as Error).message).not.toContain('\u0000')
    expect((custom as Error).message).toContain('custom error 0xda472023: \\x00')
    expect(JSON.parse(JSON.stringify(custom))).toMatchObject({ code: 'CALL_REVERTED', revert: { args: [expect.any(String), '42'] }, cause: { code: 'RPC_ERROR', rpcCode: 3 } })
    expect(node.calls('eth_call')).toBe(3)
  })

  it('with confirmations: 5, reads the older value until 5 blocks are built on the change', async () => {
    const p = await node.pool({}, { ready: 3 })
    const c = createContract(p, node.counter, counterAbi)
    const changedAt = BigInt(await setValue(c, 2n))
    const waitHead = (head: bigint) => waitFor(() => p.referenceHead() === head, `the reference head to reach ${head}`)
    await waitHead(changedAt)
    expect(await c.read('value')).toBe(2n)
    expect(await c.read('value', [], { confirmations: 5 })).toBe(1n)
    await node.anvil.mine(4)
    await waitHead(changedAt + 4n)
    expect(await c.read('value', [], { confirmations: 5 })).toBe(1n)
    await node.anvil.mine(1)
    await waitHead(changedAt + 5n)
    expect(await c.read('value', [], { confirmations: 5 })).toBe(2n)
    // One pinned block for several reads: a consistent view.
    const block = (await resolveBlock(p, { confirmations: 5 })) as `0x${string}`
    expect(block).toBe(`0x${changedAt.toString(16)}`)
    expect(await Promise.all([c.read('value', [], { blockTag: block }), c.read('owner', [], { blockTag: block })])).toEqual([2n, deployer.address])
  })

  it('finality reads use the chain\'s safe and finalized blocks', async () => {
    const p = await node.pool({}, { ready: 3 })
    const c = createContract(p, node.counter, counterAbi)
    await setValue(c, 3n)
    await node.anvil.mine(40)
    // anvil: safe = head − 32, finalized = head − 64: the change is safe, not final.
    expect(await c.read('value', [], { finality: 'safe' })).toBe(3n)
    expect(await c.read('value', [], { finality: 'finalized' })).toBe(1n)
  })

  it('a read with a deadline against hanging endpoints rejects in time and aborts its fetches', async () => {
    const p = await node.pool({ heartbeat: { interval: 60_000 } }, { ready: 3 })
    const c = createContract(p, node.counter, counterAbi)
    for (const x of node.http) x.setMode({ kind: 'hang' })
    const closedBefore = node.http.map((x) => x.closedConnections())
    const error = await c.read('value', [], { timeout: 300 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TIMEOUT', scope: 'request', timeout: 300 })
    const sent = node.calls('eth_call')
    expect(sent).toBeGreaterThan(0)
    // Each hanging eth_call was aborted: its connection closed, not left to the proxy.
    await waitFor(() => node.http.reduce((n, x, i) => n + x.closedConnections() - closedBefore[i]!, 0) >= sent, 'the aborted connections to close', 2_000)
  })

  it('rejects a broken ABI at creation and an unknown function at the call', async () => {
    const p = await node.pool({}, { ready: 3 })
    expect(() => createContract(p, node.counter, ['function ('])).toThrow(expect.objectContaining({ code: 'INVALID_ABI' }))
    expect(() => createContract(p, node.counter, [...counterAbi, { type: 'function', name: 'x', inputs: [{ type: 'uint257' }] }] as never)).toThrow(/entry \d+: invalid numeric width/)
    expect(() => createContract(p, node.counter, 'garbage')).toThrow(expect.objectContaining({ code: 'INVALID_ABI' }))
    expect(() => createContract(p, '0x1234', counterAbi)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'address' }))
    await expect(createContract(p, node.counter, counterAbi).read('nope')).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'functionName' })
    expect(node.calls('eth_call')).toBe(0)
  })
})

describe('sending and waiting', () => {
  async function signedTransfer(key = SECOND_KEY, overrides: Partial<TransactionRequest> = {}): Promise<string> {
    const wallet = new Wallet(key)
    const nonce = await direct.getTransactionCount(wallet.address)
    return wallet.signTransaction({ to: deployer.address, value: 1_000n, nonce, gasLimit: 21_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, chainId: 31337n, type: 2, ...overrides })
  }

  it('a raw transaction through one hanging and one failing endpoint is accepted and mined once', async () => {
    const p = await node.pool({ heartbeat: { interval: 60_000 } }, { ready: 3 })
    node.http[A]!.setMode({ kind: 'hang' })
    node.http[B]!.setMode({ kind: 'http500' })
    const sender = new Wallet(SECOND_KEY).address
    const before = await direct.getTransactionCount(sender)
    const signed = await signedTransfer()
    const hash = await sendRawTransaction(p, signed, { timeout: 5_000 })
    const receipt = await waitForTransaction(p, hash, { pollInterval: 20, timeout: 5_000 })
    expect(receipt.transactionHash).toBe(hash)
    expect(await direct.getTransactionCount(sender)).toBe(before + 1)
    expect(node.http[C]!.methodCounts()['eth_sendRawTransaction']).toBeGreaterThanOrEqual(1)
    // Sending the same bytes again is safe: "already known" or "nonce too low" with the hash known.
    await expect(sendRawTransaction(p, signed, { timeout: 5_000 })).resolves.toBe(hash)
    expect(await direct.getTransactionCount(sender)).toBe(before + 1)
  })

  it('surfaces a rejection every endpoint agrees on as one typed error', async () => {
    const p = await node.pool({}, { ready: 3 })
    const poor = Wallet.createRandom()
    const signed = await poor.signTransaction({ to: deployer.address, value: 10n ** 18n, nonce: 0, gasLimit: 21_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1n, chainId: 31337n, type: 2 })
    const error = await sendRawTransaction(p, signed).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'TX_REJECTED')).toBe(true)
    expect((error as { rejections: unknown[] }).rejections).toHaveLength(3)
    expect((error as Error).message).toMatch(/insufficient funds/i)
  })

  it('waitForTransaction survives a reorg that drops the transaction, and a hanging endpoint', async () => {
    const p = await node.pool({}, { ready: 3 })
    const states: TransactionState[] = []
    const signed = await signedTransfer()
    const hash = await sendRawTransaction(p, signed)
    const waiting = waitForTransaction(p, hash, { confirmations: 3, pollInterval: 20, timeout: 10_000, onState: (s) => states.push(s) })
    await waitFor(() => states.some((s) => s.status === 'mined'), 'the transaction to be seen mined')
    node.http[A]!.setMode({ kind: 'hang' })
    // Replace the last block: anvil drops its transactions, so the receipt disappears.
    await node.anvil.rpc('anvil_reorg', [1, []])
    await waitFor(() => states.some((s) => s.status === 'reorged'), 'the reorg to be noticed')
    await sendRawTransaction(p, signed)
    await node.anvil.mine(3)
    const receipt = await waiting
    expect(receipt.transactionHash).toBe(hash)
    const mined = states.filter((s) => s.status === 'mined')
    expect(new Set(mined.map((s) => (s as { blockHash: string }).blockHash)).size).toBe(2)
    expect(states.map((s) => s.status)).toContain('reorged')
  })

  it('rejects with CONFIRMATION_TIMEOUT naming the last state seen', async () => {
    const p = await node.pool({}, { ready: 3 })
    const hash = await sendRawTransaction(p, await signedTransfer())
    const error = await waitForTransaction(p, hash, { confirmations: 50, pollInterval: 20, timeout: 400 }).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'CONFIRMATION_TIMEOUT')).toBe(true)
    expect(error).toMatchObject({ hash, lastState: { status: 'mined', confirmations: 1n, reverted: false } })
    expect((error as Error).message).toMatch(/not 50 deep in time: mined at depth 1 in block \d+/)
  })
})
