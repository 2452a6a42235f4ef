import { BaseError, ContractFunctionRevertedError, createPublicClient, encodeErrorResult, HttpRequestError, LimitExceededRpcError, ProviderDisconnectedError, TimeoutError } from 'viem'
import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError, type Pool } from '../../src/index.js'
import { resilientTransport, ResilientRpcRequestError } from '../../src/viem/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { start } from '../support/async.js'
import { useFakePool } from '../support/fakePool.js'
import { chainNode } from '../support/scriptedChain.js'

// resilient-rpc/viem over a pool of scripted endpoints: what viem sends reaches the pool once, and
// what the pool throws reaches viem as viem's own errors, the pool's underneath.

const COUNTER = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b'], heartbeat: false, random: () => 0, retries: 1, backoff: { initial: 1 } }, { initial: { a: { kind: 'ok', result: '0x10' }, b: { kind: 'ok', result: '0x10' } } })

const clientOf = (pool: Pool, options?: Parameters<typeof resilientTransport>[1]) => createPublicClient({ transport: resilientTransport(pool, options) })

/** The error a client call rejects with, driving fake timers meanwhile. */
async function failure(promise: Promise<unknown>, ms = 0): Promise<BaseError> {
  const { outcome, done } = start(promise)
  await vi.advanceTimersByTimeAsync(ms)
  await done
  expect(outcome.error).toBeInstanceOf(BaseError)
  return outcome.error as BaseError
}

describe('resilientTransport', () => {
  it('sends each request through the pool once: viem adds no retries', async () => {
    fake.set('a', { kind: 'status', status: 500 })
    fake.set('b', { kind: 'status', status: 500 })
    const client = clientOf(makePool())
    expect(client.transport).toMatchObject({ type: 'webSocket', key: 'resilient', name: 'resilient-rpc', retryCount: 0 })
    const error = await failure(client.getBlockNumber({ cacheTime: 0 }))
    // The pool's two attempts (retries: 1), no more.
    expect(fake.calls).toHaveLength(2)
    expect(error).toBeInstanceOf(ResilientRpcRequestError)
    expect(error.shortMessage).toMatch(/\(resilient-rpc RETRIES_EXHAUSTED\)$/)
    expect(error.walk((e) => isResilientRpcError(e, 'RETRIES_EXHAUSTED'))).toBeTruthy()
    expect((error as ResilientRpcRequestError).code).toBe('RETRIES_EXHAUSTED')
  })

  it('a revert with a custom error is decoded by name, from the data the node sent', async () => {
    const data = encodeErrorResult({ abi: counterAbi, errorName: 'Unauthorized', args: [COUNTER, 42n] })
    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted', data })
    const client = clientOf(makePool({}, ['http://a']))
    const error = await failure(client.readContract({ address: COUNTER, abi: counterAbi, functionName: 'failCustom', args: [42n] }))
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError
    expect(revert.data).toMatchObject({ errorName: 'Unauthorized', args: [expect.stringMatching(/^0x5fbdb/i), 42n] })
    expect(error.walk((e) => isResilientRpcError(e, 'RPC_ERROR'))).toBeTruthy()
    expect(fake.calls).toHaveLength(1)
  })

  it.each([
    ['a deadline', { kind: 'hang' } as const, TimeoutError, 'TIMEOUT' as const, 1_000],
    ['HTTP 502', { kind: 'status', status: 502 } as const, HttpRequestError, 'HTTP_ERROR' as const, 0],
    ['a connection refused', { kind: 'network' } as const, HttpRequestError, 'NETWORK' as const, 0],
    ['a rate limit', { kind: 'status', status: 429 } as const, LimitExceededRpcError, 'RATE_LIMITED' as const, 0],
  ])('%s arrives as viem\'s own error class, the pool\'s error underneath', async (_name, behaviour, ViemClass, code, ms) => {
    fake.set('a', behaviour)
    const client = clientOf(makePool({ retries: 0 }, ['http://a']), { timeout: 1_000 })
    const error = await failure(client.getBlockNumber({ cacheTime: 0 }), ms)
    expect(error.walk((e) => e instanceof ViemClass)).toBeTruthy()
    expect(error.walk((e) => isResilientRpcError(e, code))).toBeTruthy()
  })

  it('no endpoint left is ProviderDisconnectedError; a caller abort stays an abort', async () => {
    const pool = makePool()
    const client = clientOf(pool)
    await pool.destroy()
    const gone = await failure(client.getBlockNumber({ cacheTime: 0 }))
    expect(gone).toBeInstanceOf(ProviderDisconnectedError)
    expect(gone.walk((e) => isResilientRpcError(e, 'POOL_DESTROYED'))).toBeTruthy()
  })

  it('refuses an unknown option', () => {
    expect(() => resilientTransport(makePool(), { timout: 5 } as never)).toThrow(/Invalid option `timout`/)
  })
})

describe('subscriptions through the transport (watch* actions)', () => {
  const head = { n: 0x10 }
  const node = () => fake.set('a', chainNode(head))

  it('watchBlockNumber (push by default) hears each head from pool.subscribe, not from viem polling', async () => {
    head.n = 0x10
    node()
    const client = clientOf(makePool({}, ['http://a']))
    const heard: bigint[] = []
    const unwatch = client.watchBlockNumber({ onBlockNumber: (n) => heard.push(n) })
    await vi.advanceTimersByTimeAsync(1_100)
    head.n = 0x12
    await vi.advanceTimersByTimeAsync(1_100)
    unwatch()
    expect(heard).toEqual([0x10n, 0x11n, 0x12n])
    // The pool's own polling (eth_getBlockByNumber), never viem's eth_blockNumber loop.
    expect(fake.calls.filter((c) => c.method === 'eth_blockNumber')).toEqual([])
    head.n = 0x13
    await vi.advanceTimersByTimeAsync(2_000)
    expect(heard).toHaveLength(3)
  })
})
