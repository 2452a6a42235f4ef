import { describe, expect, it } from 'vitest'
import { PROVIDER_ERROR_CODES, ProviderRpcError, toProviderRpcError } from '../../src/adapters/providerRpcError.js'
import { AbortedError, CircuitOpenError, NoHealthyEndpointError, NotReadyError, PoolDestroyedError, RetriesExhaustedError, TimeoutError } from '../../src/errors/request.js'
import { ChainMismatchError, EndpointLaggingError, HttpError, InvalidResponseError, NetworkError, RateLimitedError, RpcResponseError, UnauthorizedError } from '../../src/errors/endpoint.js'
import { ContractRevertError } from '../../src/errors/contract.js'
import { InvalidOptionError } from '../../src/errors/invalidOption.js'
import type { ResilientRpcError } from '../../src/errors/base.js'

describe('PROVIDER_ERROR_CODES', () => {
  it('maps every pool error code to an EIP-1193 / JSON-RPC code', () => {
    expect(PROVIDER_ERROR_CODES).toMatchInlineSnapshot(`
      {
        "ABORTED": 4001,
        "BLOCK_UNAVAILABLE": -32001,
        "CALL_REVERTED": 3,
        "CHAIN_MISMATCH": 4901,
        "CIRCUIT_OPEN": -32603,
        "CONFIRMATION_TIMEOUT": -32603,
        "HANDLER_FAILED": -32603,
        "HTTP_ERROR": -32603,
        "INVALID_ABI": -32602,
        "INVALID_OPTION": -32602,
        "INVALID_RESPONSE": -32603,
        "LAGGING": -32603,
        "NETWORK": -32603,
        "NOT_READY": 4900,
        "NO_CODE": -32602,
        "NO_ENDPOINT": 4900,
        "POOL_DESTROYED": 4900,
        "QUEUE_FULL": -32005,
        "QUORUM_FAILED": -32603,
        "RATE_LIMITED": -32005,
        "RETRIES_EXHAUSTED": -32603,
        "RETRY_BUDGET_EXHAUSTED": -32603,
        "TIMEOUT": -32603,
        "TX_REJECTED": -32003,
        "UNAUTHORIZED": -32603,
      }
    `)
    expect(Object.isFrozen(PROVIDER_ERROR_CODES)).toBe(true)
  })
})

describe('toProviderRpcError', () => {
  it("keeps a node's code, message and data, with the pool's error as cause", () => {
    const node = new RpcResponseError({ code: 3, message: 'execution reverted: custom error 0xda472023', data: '0xda472023' }, { endpoint: 'A' })
    const error = toProviderRpcError(node)
    expect(error).toBeInstanceOf(ProviderRpcError)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ name: 'ProviderRpcError', code: 3, message: 'execution reverted: custom error 0xda472023', data: '0xda472023' })
    expect(error.cause).toBe(node)
  })

  const attempts = [{ endpoint: 'A', error: new NetworkError({ endpoint: 'A' }), duration: 3 }]
  it.each<[ResilientRpcError, number]>([
    [new TimeoutError('request', 100, { attempts }), -32603],
    [new RetriesExhaustedError({ attempts, cause: new HttpError(502) }), -32603],
    [new NetworkError(), -32603],
    [new HttpError(500), -32603],
    [new InvalidResponseError('body is not JSON'), -32603],
    [new UnauthorizedError(401), -32603],
    [new CircuitOpenError(), -32603],
    [new EndpointLaggingError(-9n, 'behind'), -32603],
    [new RateLimitedError(1_000), -32005],
    [new InvalidOptionError('params', 'expected an array'), -32602],
    [new NoHealthyEndpointError([{ endpoint: 'A', reason: 'down' }]), 4900],
    [new NotReadyError(0, 1, []), 4900],
    [new PoolDestroyedError(), 4900],
    [new ChainMismatchError(1n, 5n), 4901],
    [new AbortedError(), 4001],
  ])('%# → %i, with data.code and cause', (pool, code) => {
    const error = toProviderRpcError(pool)
    expect(error).toMatchObject({ code, message: pool.message, data: { code: pool.code } })
    expect(error.cause).toBe(pool)
  })

  it('a decoded contract revert is 3 with its revert data, as a node sends it', () => {
    const revert = new ContractRevertError('failString', { errorName: 'Error', signature: 'Error(string)', args: ['nope'], reason: 'nope' }, '0x08c379a0')
    expect(toProviderRpcError(revert)).toMatchObject({ code: 3, data: '0x08c379a0', cause: revert })
  })

  it('messages say what happened, attempts included', () => {
    expect(toProviderRpcError(new TimeoutError('request', 100, { attempts })).message).toMatchInlineSnapshot(`
      "Request timed out after 100 ms
      Attempts:
        1. A (3 ms): [NETWORK] Network error"
    `)
  })

  it('anything else is an internal error, never a non-Error', () => {
    const plain = new Error('boom')
    expect(toProviderRpcError(plain)).toMatchObject({ code: -32603, message: 'boom', cause: plain })
    expect(toProviderRpcError('weird')).toMatchObject({ code: -32603, message: 'weird' })
    const already = new ProviderRpcError(4200, 'unsupported')
    expect(toProviderRpcError(already)).toBe(already)
  })
})
