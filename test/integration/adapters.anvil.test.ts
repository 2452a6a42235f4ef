import { Contract, ContractFactory, Interface, isError, Wallet, type ContractEventPayload, type JsonRpcApiProvider } from 'ethers'
import { ContractFunctionRevertedError, createPublicClient, custom, BaseError, type Log } from 'viem'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEip1193Provider } from '../../src/adapters/eip1193.js'
import { createEthersProvider } from '../../src/adapters/ethers.js'
import type { Pool } from '../../src/index.js'
import { counterAbi, counterBytecode } from '../fixtures/contracts/counter.js'
import { waitFor } from '../support/async.js'
import { DEV_ACCOUNT, DEV_KEY } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { runInChild } from '../support/runInChild.js'

// The ethers and EIP-1193 (viem) adapters against one anvil behind three fault proxies. Set-up
// transactions that are not under test (event emitters) go straight to anvil, so a fault injected in
// a proxy cannot touch them. Assertions are on proxy counts and typed outcomes, never on wall-clock.

const RECIPIENT = '0x000000000000000000000000000000000000bEEF'
const counterInterface = new Interface(counterAbi)

const node = useProxiedAnvil({
  http: 3,
  pool: {
    attemptTimeout: 1_000, // generous: a retry after a timeout on a loaded machine would break the "sent once" counts
    heartbeat: { interval: 100, timeout: 200 },
    breaker: { resetTimeout: 300, volumeThreshold: 3 },
    // Never hedged: counts must be exact.
    hedge: false,
  },
})
let counter: `0x${string}`

const ethersProvider = (p: Pool, pollingInterval = 50): JsonRpcApiProvider => node.track(createEthersProvider(p, { pollingInterval }))

/** Emits ValueChanged by calling set(next) from an unlocked dev account, straight to anvil (automine). */
async function emitSet(next: bigint): Promise<string> {
  const data = counterInterface.encodeFunctionData('set', [next])
  return (await node.anvil.transact({ from: DEV_ACCOUNT, to: counter, data })).transactionHash
}

beforeAll(async () => {
  // ethers logs every filter poll that fails ("@TODO Error: …"), e.g. one cancelled by destroy(): not ours to print.
  const log = console.log.bind(console)
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void (args[0] !== '@TODO' && log(...args)))
  // Deployed through the adapter under test: a Wallet on the ethers provider over the pool.
  const p = await node.pool({}, { ready: 3 })
  const provider = ethersProvider(p)
  const deployed = await new ContractFactory(counterAbi, counterBytecode, new Wallet(DEV_KEY, provider)).deploy(7n)
  await deployed.waitForDeployment()
  counter = (await deployed.getAddress()) as `0x${string}`
  // Destroyed now, not after the last test as the fixture would: their polls would blur the tests' counts.
  provider.destroy()
  await p.destroy()
})

afterAll(() => {
  vi.restoreAllMocks()
})

describe('ethers provider over the pool', () => {
  it('reads contract state, balances, blocks and logs', async () => {
    const recorded = recordingPool(await node.pool({}, { ready: 3 }))
    const provider = ethersProvider(recorded.pool)
    const contract = new Contract(counter, counterAbi, provider)
    await emitSet(11n)
    expect(await contract.getFunction('value')()).toBe(11n)
    expect(await contract.getFunction('owner')()).toBe(DEV_ACCOUNT)
    expect(await provider.getBalance(DEV_ACCOUNT)).toBeGreaterThan(0n)
    const block = await provider.getBlock('latest')
    expect(block?.number).toBe(Number(await node.anvil.rpc<string>('eth_blockNumber')))
    const logs = await provider.getLogs({ address: counter, fromBlock: 0, toBlock: 'latest', topics: [counterInterface.getEvent('ValueChanged')!.topicHash] })
    expect(logs.length).toBeGreaterThanOrEqual(1)
    expect(counterInterface.parseLog(logs.at(-1)!)?.args.current).toBe(11n)
    // The network is static (the pool's chain): ethers never asked for the chain id.
    expect(recorded.methods).toContain('eth_call')
    expect(recorded.methods).not.toContain('eth_chainId')
  })

  it('decodes reverts as CALL_EXCEPTION (custom error, Error(string), Panic), each eth_call sent once', async () => {
    const p = await node.pool({}, { ready: 3 })
    const contract = new Contract(counter, counterAbi, ethersProvider(p))

    const unauthorized = await contract.getFunction('failCustom')(42n).catch((e: unknown) => e)
    expect(isError(unauthorized, 'CALL_EXCEPTION')).toBe(true)
    expect((unauthorized as { revert: { name: string; args: unknown[] } }).revert).toMatchObject({ name: 'Unauthorized', args: [expect.any(String), 42n] })
    expect(node.calls('eth_call')).toBe(1)

    const reason = await contract.getFunction('failString')().catch((e: unknown) => e)
    expect(reason).toMatchObject({ code: 'CALL_EXCEPTION', reason: 'counter: nope', revert: { name: 'Error', args: ['counter: nope'] } })
    const panic = await contract.getFunction('failPanic')(0n).catch((e: unknown) => e)
    expect(panic).toMatchObject({ code: 'CALL_EXCEPTION', revert: { name: 'Panic' } })
    expect((panic as { revert: { args: unknown[] } }).revert.args.map(Number)).toEqual([0x12])
    expect(node.calls('eth_call')).toBe(3)
  })

  it('sends a Wallet transfer; waitForTransaction resolves with the mined receipt', async () => {
    const p = await node.pool({}, { ready: 3 })
    const provider = ethersProvider(p)
    const wallet = new Wallet(DEV_KEY, provider)
    const before = await provider.getBalance(RECIPIENT)
    const tx = await wallet.sendTransaction({ to: RECIPIENT, value: 1234n })
    const receipt = await provider.waitForTransaction(tx.hash, 1, 10_000)
    expect(receipt).toMatchObject({ hash: tx.hash, status: 1 })
    expect(await provider.getBalance(RECIPIENT)).toBe(before + 1234n)
    expect(node.calls('eth_sendRawTransaction')).toBe(1)
  })

  it('contract.on delivers every event exactly once across a failover of the endpoint serving it, from the pool\'s log subscription', async () => {
    // Round-robin, and only a slow heartbeat verdict takes the failed endpoint out (its stale head does
    // not): it certainly gets requests meanwhile, which fail over.
    const p = await node.pool({ strategy: 'weighted-round-robin', heartbeat: { interval: 100, timeout: 1_000 }, maxLag: 1_000 }, { ready: 3 })
    const failedOver: string[] = []
    p.on('request:retry', (e) => failedOver.push(e.endpoint))
    const provider = ethersProvider(p)
    const sent: string[] = []
    provider.on('debug', (e: EthersDebug) => {
      if (e.action === 'sendRpcPayload') sent.push(...payloadMethods(e.payload))
    })
    const synced: string[] = []
    p.on('request:done', (e) => synced.push(e.method))
    const contract = new Contract(counter, counterAbi, provider)
    const delivered: string[] = []
    await contract.on('ValueChanged', (...args: unknown[]) => {
      const { log } = args.at(-1) as ContractEventPayload
      delivered.push(`${log.transactionHash}:${log.index}`)
    })
    // The subscription starts at the head it first reads (its eth_blockNumber through the pool).
    await waitFor(() => synced.includes('eth_blockNumber'), 'the log subscription to read the head')

    const emitted: string[] = []
    for (let i = 0; i < 4; i++) emitted.push(await emitSet(100n + BigInt(i)))
    await waitFor(() => delivered.length >= 4, 'the first four events')

    // Fail the endpoint that served most of the subscription's reads so far, mid-stream.
    const busiest = node.http.reduce((a, b) => ((a.methodCounts()['eth_getLogs'] ?? 0) >= (b.methodCounts()['eth_getLogs'] ?? 0) ? a : b))
    expect(busiest.methodCounts()['eth_getLogs']).toBeGreaterThan(0)
    busiest.setMode({ kind: 'hang' })
    const logsBefore = node.http.map((x) => x.methodCounts()['eth_getLogs'] ?? 0)
    for (let i = 4; i < 8; i++) emitted.push(await emitSet(100n + BigInt(i)))
    await waitFor(() => delivered.length >= 8, 'all eight events', 15_000)

    // Three more blocks bring nothing new: nothing is delivered twice.
    await node.anvil.mine(3)
    const readsAfter = node.calls('eth_getLogs')
    await waitFor(() => node.calls('eth_getLogs') > readsAfter, 'the subscription to read the new blocks')
    await new Promise((r) => setTimeout(r, 200)) // four more polling intervals
    expect(delivered).toHaveLength(8)
    expect(new Set(delivered).size).toBe(8)
    expect(new Set(delivered.map((d) => d.split(':')[0]))).toEqual(new Set(emitted))
    // Requests did meet the failed endpoint and moved on; the others served the subscription's reads.
    expect(failedOver).toContain('ABC'[node.http.indexOf(busiest)])
    expect(node.http.some((x, i) => x !== busiest && (x.methodCounts()['eth_getLogs'] ?? 0) > logsBefore[i]!)).toBe(true)
    // Neither filters nor ethers' own polling: the pool's subscription did it all.
    expect(node.calls('eth_newFilter') + node.calls('eth_getFilterChanges')).toBe(0)
    expect(sent.filter((m) => m === 'eth_getFilterChanges' || m === 'eth_blockNumber' || m === 'eth_getLogs')).toEqual([])
  })

  it('destroy() while the subscriptions read stops them; the pool keeps working', async () => {
    const p = await node.pool({}, { ready: 3 })
    const recorded = recordingPool(p)
    const provider = createEthersProvider(recorded.pool, { pollingInterval: 10 })
    await new Contract(counter, counterAbi, provider).on('ValueChanged', () => {})
    await provider.on('block', () => {})
    await waitFor(() => recorded.methods.includes('eth_blockNumber'), 'a subscription read')
    // Slow endpoints keep the next read in flight while destroy() runs.
    for (const x of node.http) x.setMode({ kind: 'delay', ms: 100 })
    await node.anvil.mine(1)
    provider.destroy()
    for (const x of node.http) x.setMode({ kind: 'pass' })
    // What was in flight settles; then nothing of the subscriptions starts, over many polling intervals.
    const reads = () => recorded.methods.filter((m) => m === 'eth_getLogs' || m === 'eth_getBlockByNumber' || m === 'eth_getBlockByHash').length
    await new Promise((r) => setTimeout(r, 300))
    const quiet = reads()
    await new Promise((r) => setTimeout(r, 300))
    expect(reads()).toBe(quiet)
    await expect(p.request('eth_blockNumber')).resolves.toMatch(/^0x/)
    await expect(provider.getBlockNumber()).rejects.toMatchObject({ code: 'UNSUPPORTED_OPERATION' })
  })

  it('leaves nothing running after destroy(): a child destroying mid-read exits on its own', async () => {
    for (const x of node.http) x.setMode({ kind: 'delay', ms: 50 })
    const result = await runInChild('test/adapters/fixtures/destroyWhileWatching.ts', { env: { ENDPOINTS: node.http.map((x) => x.url).join(','), COUNTER: counter }, timeout: 10_000 })
    expect(result.stderr).toBe('')
    expect(result.stdout.trim().split('\n')).toContain('destroyed')
    expect(result.exitedOnItsOwn).toBe(true)
    expect(result.code).toBe(0)
  })
})

describe('EIP-1193 provider over the pool, through viem', () => {
  it('reads with readContract', async () => {
    const p = await node.pool({}, { ready: 3 })
    const client = createPublicClient({ transport: custom(createEip1193Provider(p), { retryCount: 0 }) })
    await emitSet(21n)
    expect(await client.readContract({ address: counter, abi: counterAbi, functionName: 'value' })).toBe(21n)
    expect(node.calls('eth_call')).toBe(1)
  })

  it('decodes reverts as ContractFunctionRevertedError, each eth_call sent once', async () => {
    const p = await node.pool({}, { ready: 3 })
    const client = createPublicClient({ transport: custom(createEip1193Provider(p), { retryCount: 0 }) })
    const reverted = async (functionName: 'failCustom' | 'failString' | 'failPanic', args: readonly bigint[]) => {
      const error = await client.readContract({ address: counter, abi: counterAbi, functionName, args } as never).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BaseError)
      const revert = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
      expect(revert).toBeInstanceOf(ContractFunctionRevertedError)
      return revert as ContractFunctionRevertedError
    }
    const unauthorized = await reverted('failCustom', [42n])
    expect(unauthorized.data).toMatchObject({ errorName: 'Unauthorized', args: [expect.any(String), 42n] })
    expect(node.calls('eth_call')).toBe(1)
    expect((await reverted('failString', [])).reason).toBe('counter: nope')
    expect((await reverted('failPanic', [0n])).data).toMatchObject({ errorName: 'Panic', args: [0x12n] })
    expect(node.calls('eth_call')).toBe(3)
  })

  it('watchContractEvent delivers every event exactly once across a failover of the endpoint serving it', async () => {
    // Round-robin, and the heartbeats take the failed endpoint out only after five failed pings.
    const p = await node.pool({ strategy: 'weighted-round-robin', heartbeat: { interval: 100, timeout: 200, failuresToDown: 5 }, maxLag: 1_000 }, { ready: 3 })
    const failedOver: string[] = []
    p.on('request:retry', (e) => failedOver.push(e.endpoint))
    const eip1193 = createEip1193Provider(p)
    const methods: string[] = []
    const recording = { request: (args: { method: string; params?: unknown }, opts?: { signal?: AbortSignal }) => (methods.push(args.method), eip1193.request(args as never, opts)) }
    const client = createPublicClient({ transport: custom(recording, { retryCount: 0 }), pollingInterval: 50 })
    const delivered: string[] = []
    const errors: unknown[] = []
    const unwatch = client.watchContractEvent({
      address: counter,
      abi: counterAbi,
      eventName: 'ValueChanged',
      onLogs: (logs: Log[]) => delivered.push(...logs.map((l) => `${l.transactionHash}:${l.logIndex}`)),
      onError: (e) => errors.push(e),
    })
    node.defer(unwatch)
    await waitFor(() => methods.includes('eth_getFilterChanges'), 'the filter to be installed and polled')

    const emitted: string[] = []
    for (let i = 0; i < 4; i++) emitted.push(await emitSet(200n + BigInt(i)))
    await waitFor(() => delivered.length === 4, 'the first events')
    const busiest = node.http.reduce((a, b) => ((a.methodCounts()['eth_getLogs'] ?? 0) >= (b.methodCounts()['eth_getLogs'] ?? 0) ? a : b))
    busiest.setMode({ kind: 'reset' })
    for (let i = 4; i < 8; i++) emitted.push(await emitSet(200n + BigInt(i)))
    await waitFor(() => delivered.length >= 8, 'the events after the failover', 10_000)

    const polls = methods.filter((m) => m === 'eth_getFilterChanges').length
    await node.anvil.mine(2)
    await waitFor(() => methods.filter((m) => m === 'eth_getFilterChanges').length >= polls + 3, 'three more polls')
    expect(failedOver).toContain('ABC'[node.http.indexOf(busiest)])
    expect(delivered).toHaveLength(8)
    expect(new Set(delivered).size).toBe(8)
    expect(new Set(delivered.map((d) => d.split(':')[0]))).toEqual(new Set(emitted))
    // The filter was never lost, so viem never had to re-create it; and it never reached a node.
    expect(methods.filter((m) => m === 'eth_newFilter')).toHaveLength(1)
    expect(node.calls('eth_newFilter') + node.calls('eth_getFilterChanges')).toBe(0)
    expect(errors).toEqual([])
  })
})

/** The pool, and the methods requested through it, as the pool reports them (`request:done`). */
type EthersDebug = { action: string; payload?: { method?: string } | Array<{ method?: string }> }

/** The methods of an ethers `sendRpcPayload` debug event: ethers batches what it sends in one tick into an array. */
function payloadMethods(payload: EthersDebug['payload']): string[] {
  return (Array.isArray(payload) ? payload : payload ? [payload] : []).flatMap((p) => (p.method ? [p.method] : []))
}

function recordingPool(p: Pool): { pool: Pool; methods: string[] } {
  const methods: string[] = []
  p.on('request:done', (e) => methods.push(e.method))
  return { pool: p, methods }
}
