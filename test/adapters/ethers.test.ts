import { Contract, Interface, isError, type JsonRpcApiProvider } from 'ethers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEthersProvider, type EthersProviderOptions } from '../../src/adapters/ethers.js'
import { createPool, isResilientRpcError, type Pool, type PoolOptions } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { start } from '../support/async.js'
import { useFakePool } from '../support/fakePool.js'

// The ethers provider over a real pool of scripted endpoints, on fake timers (ethers' own included):
// what reaches the pool, the shapes of its errors, and that destroy() leaves no timer behind.

const COUNTER = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const iface = new Interface(counterAbi)

const { fake, makePool, track, lastPool } = useFakePool(
  { endpoints: ['http://a', 'http://b'], heartbeat: false, random: () => 0, retries: 1, backoff: { initial: 1 }, chainId: 31337 },
  // ethers' request cache expires on its own; nothing else may be left.
  { initial: { a: { kind: 'ok', result: '0x10' }, b: { kind: 'ok', result: '0x10' } }, settle: 1_000 },
)
let provider: JsonRpcApiProvider | undefined

function setup(options: Partial<PoolOptions> = {}, providerOptions: EthersProviderOptions = {}): JsonRpcApiProvider {
  provider = createEthersProvider(makePool(options), providerOptions)
  return provider
}

/** Settles `promise`, driving fake timers (ethers schedules every request on a timer). */
async function settle<T>(promise: Promise<T>, ms = 0): Promise<{ value?: T; error?: unknown }> {
  const { outcome, done } = start(promise)
  await vi.advanceTimersByTimeAsync(ms)
  for (let i = 0; i < 100 && !outcome.settled; i++) await vi.advanceTimersByTimeAsync(1)
  await done
  return outcome
}
const value = async <T>(promise: Promise<T>): Promise<T> => {
  const outcome = await settle(promise)
  if ('error' in outcome && outcome.error !== undefined) throw outcome.error
  return outcome.value as T
}
const failure = async (promise: Promise<unknown>, ms = 0): Promise<unknown> => {
  const outcome = await settle(promise, ms)
  expect(outcome.error).toBeDefined()
  return outcome.error
}

// Runs before useFakePool's afterEach (hooks after a test run in reverse order): the provider goes first.
afterEach(() => {
  provider?.destroy()
  provider = undefined
})

describe('network', () => {
  it("takes the pool's chain id and never asks for it", async () => {
    const p = setup()
    expect(fake.calls).toHaveLength(0)
    expect((await value(p.getNetwork())).chainId).toBe(31337n)
    for (let i = 0; i < 3; i++) expect(await value(p.getBlockNumber())).toBe(16)
    expect(fake.calls.map((c) => c.method)).not.toContain('eth_chainId')
  })

  it('an explicit chainId wins', async () => {
    const p = setup({}, { chainId: 10 })
    expect((await value(p.getNetwork())).chainId).toBe(10n)
  })

  it('without a known chain id, asks once at first use', async () => {
    fake.set('a', (call) => ({ kind: 'ok', result: call.method === 'eth_chainId' ? '0x2a' : '0x10' }))
    fake.set('b', (call) => ({ kind: 'ok', result: call.method === 'eth_chainId' ? '0x2a' : '0x10' }))
    provider = createEthersProvider(track(createPool({ endpoints: ['http://a', 'http://b'], fetch: fake.fetch, heartbeat: false })))
    expect(fake.calls).toHaveLength(0)
    for (let i = 0; i < 3; i++) await value(provider.getBlockNumber())
    expect((await value(provider.getNetwork())).chainId).toBe(42n)
    expect(fake.calls.filter((c) => c.method === 'eth_chainId')).toHaveLength(1)
  })
})

describe('requests', () => {
  it('sends one request per call, never a JSON-RPC batch', async () => {
    const p = setup()
    await value(Promise.all([p.getBlockNumber(), p.getBalance(COUNTER), p.getCode(COUNTER), p.getTransactionCount(COUNTER)]))
    expect(fake.calls.map((c) => c.method).sort()).toEqual(['eth_blockNumber', 'eth_getBalance', 'eth_getCode', 'eth_getTransactionCount'])
  })

  it('a read repeated at once reaches the pool again: no ethers cache in front of it (a balance after a transfer is fresh)', async () => {
    const p = setup()
    fake.set('a', { kind: 'ok', result: '0x1' })
    fake.set('b', { kind: 'ok', result: '0x1' })
    const account = '0x0000000000000000000000000000000000000001'
    expect(await value(p.getBalance(account))).toBe(1n)
    fake.set('a', { kind: 'ok', result: '0x2' })
    fake.set('b', { kind: 'ok', result: '0x2' })
    expect(await value(p.getBalance(account))).toBe(2n)
    expect(fake.calls.filter((c) => c.method === 'eth_getBalance')).toHaveLength(2)
  })

  it('decodes reverts: Error(string) and a custom error from the ABI, each asked once', async () => {
    const p = setup({ endpoints: ['http://a'] })
    const contract = new Contract(COUNTER, counterAbi, p)
    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted: counter: nope', data: iface.encodeErrorResult('Error', ['counter: nope']) })
    expect(await failure(contract.getFunction('failString')())).toMatchObject({ code: 'CALL_EXCEPTION', reason: 'counter: nope', revert: { name: 'Error' } })
    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted', data: iface.encodeErrorResult('Unauthorized', [COUNTER, 42n]) })
    const custom = await failure(contract.getFunction('failCustom')(42n))
    expect(isError(custom, 'CALL_EXCEPTION')).toBe(true)
    expect(custom).toMatchObject({ revert: { name: 'Unauthorized', args: [COUNTER, 42n] } })
    expect(fake.calls.map((c) => c.method)).toEqual(['eth_call', 'eth_call'])
  })

  it('a deadline is an ethers TIMEOUT whose cause is the pool error', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'hang' })
    const p = setup({}, { timeout: 500 })
    const error = await failure(p.getBlockNumber(), 500)
    expect(isError(error, 'TIMEOUT')).toBe(true)
    expect(error).toMatchObject({ operation: 'eth_blockNumber', info: { code: 'TIMEOUT' } })
    expect(isResilientRpcError((error as Error).cause, 'TIMEOUT')).toBe(true)
    expect((error as { error: unknown }).error).toBe((error as Error).cause)
  })

  it('every endpoint failing is a SERVER_ERROR; bad params an INVALID_ARGUMENT', async () => {
    fake.set('a', { kind: 'status', status: 500 })
    fake.set('b', { kind: 'network' })
    const p = setup()
    const error = await failure(p.getBlockNumber())
    expect(isError(error, 'SERVER_ERROR')).toBe(true)
    expect(error).toMatchObject({ request: 'eth_blockNumber', info: { code: 'RETRIES_EXHAUSTED' } })
    expect((error as Error).message).toMatchInlineSnapshot(`"All 2 attempts failed (request="eth_blockNumber", info={ "code": "RETRIES_EXHAUSTED" }, code=SERVER_ERROR, version=6.17.0)"`)
    const invalid = await failure(p.send('eth_getBalance', { address: COUNTER }))
    expect(isError(invalid, 'INVALID_ARGUMENT')).toBe(true)
    expect(invalid).toMatchObject({ argument: 'params', info: { code: 'INVALID_OPTION' } })
  })

  it('answers filter methods itself; a pending-transaction filter is unsupported', async () => {
    const p = setup()
    const id = await value(p.send('eth_newFilter', [{ address: COUNTER }]))
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    expect(await value(p.send('eth_uninstallFilter', [id]))).toBe(true)
    const pending = await failure(p.send('eth_newPendingTransactionFilter', []))
    expect(isError(pending, 'UNSUPPORTED_OPERATION')).toBe(true)
    expect(pending).toMatchObject({ operation: 'eth_newPendingTransactionFilter' })
    expect(fake.calls.map((c) => c.method)).toEqual(['eth_blockNumber'])
  })
})

describe('lifecycle', () => {
  it('destroy() cancels its requests in flight and leaves the pool working', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'hang' })
    const p = setup()
    const pending = settle(p.getBlockNumber())
    await vi.advanceTimersByTimeAsync(1)
    expect(fake.calls).toHaveLength(1)
    p.destroy()
    p.destroy()
    const { error } = await pending
    expect(isError(error, 'UNSUPPORTED_OPERATION')).toBe(true)
    expect((error as Error).message).toMatch(/^provider destroyed; cancelled request/)
    expect(fake.calls[0]!.signal.aborted).toBe(true)
    fake.set('a', { kind: 'ok', result: '0x20' })
    fake.set('b', { kind: 'ok', result: '0x20' })
    await expect(lastPool().request('eth_blockNumber')).resolves.toBe('0x20')
    expect(await failure(p.getBlockNumber())).toMatchObject({ code: 'UNSUPPORTED_OPERATION' })
  })

  it('destroy() stops polling', async () => {
    const p = setup({}, { pollingInterval: 100 })
    const blocks: number[] = []
    await value(p.on('block', (n: number) => blocks.push(n)))
    await vi.advanceTimersByTimeAsync(1_000)
    const polled = fake.calls.length
    // One eth_blockNumber per 250 ms: ethers shares identical requests for that long.
    expect(polled).toBeGreaterThanOrEqual(3)
    p.destroy()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(fake.calls.length).toBe(polled)
  })

  it('a destroyed pool is UNSUPPORTED_OPERATION, and the provider destroys itself', async () => {
    const p = setup()
    await lastPool().destroy()
    const error = await failure(p.send('eth_blockNumber', []))
    expect(isError(error, 'UNSUPPORTED_OPERATION')).toBe(true)
    expect(error).toMatchObject({ operation: 'eth_blockNumber', info: { code: 'POOL_DESTROYED' } })
    expect(p.destroyed).toBe(true)
  })

  it('its pollers stop by themselves once the pool is destroyed', async () => {
    const p = setup({}, { pollingInterval: 100 })
    await value(p.on('block', () => {}))
    await vi.advanceTimersByTimeAsync(300)
    await lastPool().destroy()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(p.destroyed).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('validates the pool and its options', () => {
    const p = setup()
    expect(() => createEthersProvider({} as Pool)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'pool' }))
    expect(() => createEthersProvider(lastPool(), { chainId: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'chainId' }))
    expect(() => createEthersProvider(lastPool(), { chainId: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'chainId' }))
    expect(() => createEthersProvider(lastPool(), { chainId: -1n })).toThrow('Invalid option `chainId`: expected an integer > 0, got -1')
    expect(() => createEthersProvider(lastPool(), { pollingInterval: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'pollingInterval' }))
    expect(() => createEthersProvider(lastPool(), { timeout: -5 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'timeout' }))
    expect(() => createEthersProvider(lastPool(), { filters: { maxBlockRange: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'filters.maxBlockRange' }))
    expect(p.destroyed).toBe(false)
  })
})

describe('ethers options, under `ethers`', () => {
  it('passes polling and cacheTimeout on; refuses the ones the adapter sets, and misspellings of ethers names', () => {
    const pool = makePool()
    const refusal = (ethers: object) => {
      try {
        createEthersProvider(pool, { ethers } as EthersProviderOptions).destroy()
        return 'accepted'
      } catch (error) {
        return isResilientRpcError(error, 'INVALID_OPTION') ? error.shortMessage : String(error)
      }
    }
    expect(refusal({ polling: true, cacheTimeout: 250 })).toBe('accepted')
    expect(refusal({ batchMaxCount: 10 })).toBe('Invalid option `ethers.batchMaxCount`: not passed on to ethers: the adapter sets it (a static network, one request per call: the pool balances single requests)')
    expect(refusal({ pollingInterval: 10 })).toBe('Invalid option `ethers.pollingInterval`: not passed on to ethers: give the adapter its `pollingInterval` instead')
    expect(refusal({ cacheTimout: 1 })).toBe('Invalid option `ethers.cacheTimout`: unknown option; did you mean `cacheTimeout`?')
    expect(refusal({ cacheTimeout: -2 })).toBe('Invalid option `ethers.cacheTimeout`: expected an integer >= -1, got -2')
  })

  it('cacheTimeout turns ethers\' own cache back on: a repeated read is answered from it', async () => {
    const p = setup({}, { ethers: { cacheTimeout: 1_000 } })
    const account = '0x0000000000000000000000000000000000000001'
    await value(p.getBalance(account))
    await value(p.getBalance(account))
    expect(fake.calls.filter((c) => c.method === 'eth_getBalance')).toHaveLength(1)
  })
})
