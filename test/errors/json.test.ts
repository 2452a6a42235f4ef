import { describe, expect, it } from 'vitest'
import { ResilientRpcError, type Attempt, type ErrorCode } from '../../src/errors/base.js'
import { ConfirmationTimeoutError, ContractRevertError, HandlerError, InvalidAbiError, NoCodeError, TransactionRejectedError } from '../../src/errors/contract.js'
import { ChainMismatchError, EndpointLaggingError, HttpError, InvalidResponseError, NetworkError, RateLimitedError, RpcResponseError, UnauthorizedError } from '../../src/errors/endpoint.js'
import { InvalidOptionError } from '../../src/errors/invalidOption.js'
import {
  AbortedError,
  BlockUnavailableError,
  CircuitOpenError,
  NoHealthyEndpointError,
  NotReadyError,
  PoolDestroyedError,
  QueueFullError,
  QuorumError,
  RetriesExhaustedError,
  RetryBudgetExhaustedError,
  TimeoutError,
} from '../../src/errors/request.js'

// Every error serializes with JSON.stringify: loggers do it. The errors below are built the way the
// library builds them, cycles included: the pool hands an error that ended a request its own attempt
// list, in which it is the last entry.

/** An error the way `finalError` leaves it: listed among its own attempts. */
function final<E extends ResilientRpcError>(error: E, earlier: Attempt[] = []): E {
  error.attempts = [...earlier, { endpoint: error.endpoint ?? 'A', error, duration: 12 }]
  return error
}

const systemError = (code: string, message: string) => Object.assign(new Error(message), { code, syscall: 'connect' })
const revertRpc = () => final(new RpcResponseError({ code: 3, message: 'execution reverted', data: '0x4e487b710000000000000000000000000000000000000000000000000000000000000012' }, { endpoint: 'A' }))
const nonceTooLow = (endpoint: string) => final(new RpcResponseError({ code: -32000, message: 'nonce too low' }, { endpoint }))
const timeoutAttempt: Attempt = { endpoint: 'B', error: new TimeoutError('attempt', 5000, { endpoint: 'B' }), duration: 5000 }

// One instance of every error class, keyed by code so that the compiler proves each code has one.
const EVERY_CODE: Record<ErrorCode, () => ResilientRpcError> = {
  TIMEOUT: () => new TimeoutError('request', 30_000, { attempts: [timeoutAttempt], cause: timeoutAttempt.error }),
  ABORTED: () => new AbortedError({ cause: new DOMException('This operation was aborted', 'AbortError') }),
  CIRCUIT_OPEN: () => final(new CircuitOpenError({ endpoint: 'A' })),
  NO_ENDPOINT: () => new NoHealthyEndpointError([{ endpoint: 'A', reason: 'down: Network error' }, { endpoint: 'B', reason: 'circuit open' }]),
  POOL_DESTROYED: () => new PoolDestroyedError(),
  NETWORK: () => final(new NetworkError({ endpoint: 'A', cause: new TypeError('fetch failed', { cause: systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9') }) })),
  HTTP_ERROR: () => final(new HttpError(502, { endpoint: 'A' })),
  UNAUTHORIZED: () => final(new UnauthorizedError(401, { endpoint: 'A' })),
  RATE_LIMITED: () => final(new RateLimitedError(1500, { endpoint: 'A' })),
  INVALID_RESPONSE: () => final(new InvalidResponseError('body is not JSON', { endpoint: 'A', cause: new SyntaxError('Unexpected token <'), details: 'body starts with "<html>"' })),
  RPC_ERROR: revertRpc,
  RETRIES_EXHAUSTED: () => {
    const last = new NetworkError({ endpoint: 'C' })
    return new RetriesExhaustedError({ cause: last, attempts: [timeoutAttempt, { endpoint: 'C', error: last, duration: 3 }] })
  },
  INVALID_OPTION: () => new InvalidOptionError('retries', 'expected an integer >= 0, got -1'),
  CHAIN_MISMATCH: () => final(new ChainMismatchError(1n, 5n, { endpoint: 'A' })),
  LAGGING: () => final(new EndpointLaggingError(-7n, 'Endpoint is 7 blocks behind', { endpoint: 'A' })),
  NOT_READY: () => new NotReadyError(0, 2, [{ endpoint: 'A', reason: 'connecting' }]),
  INVALID_ABI: () => new InvalidAbiError('entry 0: bad start', { cause: Object.assign(new Error('bad start'), { code: 'INVALID_ARGUMENT' }) }),
  NO_CODE: () => new NoCodeError('value', '0x5FbDB2315678afecb367f032d93F642f64180aa3', '0x61'),
  CALL_REVERTED: () => {
    const cause = revertRpc()
    return new ContractRevertError('failPanic', { errorName: 'Panic', signature: 'Panic(uint256)', args: [0x12n] }, cause.data as string, { cause, attempts: cause.attempts })
  },
  CONFIRMATION_TIMEOUT: () => new ConfirmationTimeoutError('0xabc', 12n, { status: 'mined', blockNumber: 100n, blockHash: '0xdef', confirmations: 3n, reverted: false }),
  TX_REJECTED: () => new TransactionRejectedError('0xabc', [{ endpoint: 'A', error: nonceTooLow('A') }, { endpoint: 'B', error: nonceTooLow('B') }]),
  HANDLER_FAILED: () => new HandlerError('the event handler', 2, { cause: new RangeError('boom') }),
  RETRY_BUDGET_EXHAUSTED: () => new RetryBudgetExhaustedError({ cause: timeoutAttempt.error, attempts: [timeoutAttempt] }),
  QUEUE_FULL: () => new QueueFullError(10, [{ endpoint: 'A', reason: 'at its concurrency limit (4 in flight)' }]),
  QUORUM_FAILED: () => new QuorumError(2, [{ result: '0x1', endpoints: ['A'] }, { result: '0x2', endpoints: ['B'] }], { attempts: [timeoutAttempt] }),
  BLOCK_UNAVAILABLE: () => {
    const lacks = new RpcResponseError({ code: -32000, message: 'header not found' }, { endpoint: 'A' })
    return new BlockUnavailableError(21_000_005n, { cause: lacks, attempts: [{ endpoint: 'A', error: lacks, duration: 4 }], excluded: [{ endpoint: 'B', reason: 'lagging: at block 20999990, request needs 21000005' }] })
  },
}

const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>

describe('toJSON: every error serializes', () => {
  it.each(Object.entries(EVERY_CODE).map(([code, make]) => ({ code, make })))('$code', ({ code, make }) => {
    const error = make()
    expect(error.code).toBe(code)
    const json = roundTrip(error)
    expect(json).toMatchObject({ name: error.name, code, message: error.shortMessage })
    // Nested too: as an attempt of another error, and as its cause.
    const outer = new RetriesExhaustedError({ cause: error, attempts: [{ endpoint: 'X', error, duration: 1 }] })
    expect(roundTrip(outer)).toMatchObject({ attempts: [{ endpoint: 'X', duration: 1, error: { code } }], cause: { code } })
  })

  it('an RPC error listed among its own attempts: the attempt names it, once', () => {
    expect(roundTrip(revertRpc())).toMatchInlineSnapshot(`
      {
        "attempts": [
          {
            "duration": 12,
            "endpoint": "A",
            "error": {
              "circular": true,
              "code": "RPC_ERROR",
              "endpoint": "A",
              "message": "RPC error 3: execution reverted",
              "name": "RpcResponseError",
            },
          },
        ],
        "code": "RPC_ERROR",
        "data": "0x4e487b710000000000000000000000000000000000000000000000000000000000000012",
        "endpoint": "A",
        "message": "RPC error 3: execution reverted",
        "name": "RpcResponseError",
        "rpcCode": 3,
        "rpcMessage": "execution reverted",
      }
    `)
  })

  it('a revert: the decoded revert with bigints as strings, the RPC error as the cause', () => {
    const json = roundTrip(EVERY_CODE.CALL_REVERTED())
    expect(json).toMatchObject({
      functionName: 'failPanic',
      revert: { errorName: 'Panic', args: ['18'] },
      cause: { code: 'RPC_ERROR', rpcCode: 3, attempts: [{ error: { code: 'RPC_ERROR', circular: true } }] },
      attempts: [{ endpoint: 'A', error: { code: 'RPC_ERROR', rpcCode: 3 } }],
    })
  })

  it('a rejected transaction lists each rejection with its error', () => {
    expect(roundTrip(EVERY_CODE.TX_REJECTED())).toMatchObject({
      hash: '0xabc',
      rejections: [
        { endpoint: 'A', error: { code: 'RPC_ERROR', rpcMessage: 'nonce too low', endpoint: 'A' } },
        { endpoint: 'B', error: { code: 'RPC_ERROR', endpoint: 'B' } },
      ],
    })
  })

  it('class fields: status, retryAfter, scope and timeout, chain ids, distance, excluded, answers, lastState, address and block', () => {
    expect(roundTrip(new UnauthorizedError(403))).toMatchObject({ status: 403 })
    expect(roundTrip(new RateLimitedError(1500))).toMatchObject({ retryAfter: 1500 })
    expect(roundTrip(new TimeoutError('attempt', 250))).toMatchObject({ scope: 'attempt', timeout: 250 })
    expect(roundTrip(new ChainMismatchError(1n, 5n))).toMatchObject({ expected: '1', actual: '5' })
    expect(roundTrip(new EndpointLaggingError(-7n, 'behind'))).toMatchObject({ distance: '-7' })
    expect(roundTrip(EVERY_CODE.NO_ENDPOINT())).toMatchObject({ excluded: [{ endpoint: 'A', reason: 'down: Network error' }, { endpoint: 'B', reason: 'circuit open' }] })
    expect(roundTrip(EVERY_CODE.QUORUM_FAILED())).toMatchObject({ quorum: 2, answers: [{ result: '0x1', endpoints: ['A'] }, { result: '0x2', endpoints: ['B'] }] })
    expect(roundTrip(EVERY_CODE.CONFIRMATION_TIMEOUT())).toMatchObject({ hash: '0xabc', lastState: { status: 'mined', blockNumber: '100', confirmations: '3' } })
    expect(roundTrip(new InvalidOptionError('retries', 'bad'))).toMatchObject({ option: 'retries' })
    expect(roundTrip(EVERY_CODE.NO_CODE())).toEqual({
      name: 'NoCodeError',
      code: 'NO_CODE',
      message: 'value: no contract code at 0x5FbDB2315678afecb367f032d93F642f64180aa3 in block 97',
      functionName: 'value',
      address: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      block: '0x61',
    })
    expect(roundTrip(EVERY_CODE.HANDLER_FAILED())).toMatchObject({ failures: 2, cause: { name: 'RangeError', message: 'boom' } })
  })

  it('a cause of another library: name, message and code, its own cause followed', () => {
    expect(roundTrip(EVERY_CODE.NETWORK()).cause).toEqual({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9', code: 'ECONNREFUSED' },
    })
    expect(roundTrip(new AbortedError({ cause: 'user left' })).cause).toEqual({ name: 'string', message: 'user left' })
    expect(roundTrip(new AbortedError({ cause: new DOMException('This operation was aborted', 'AbortError') })).cause).toEqual({ name: 'AbortError', message: 'This operation was aborted', code: 20 })
  })

  it('never writes a URL a lower layer quoted, nor a stack', () => {
    const text = JSON.stringify(new NetworkError({ cause: new TypeError('Failed to parse URL from https://node.example/v3/SECRETKEY?key=abc') }))
    expect(text).not.toContain('SECRETKEY')
    expect(text).not.toContain('node.example')
    expect(text).toContain('Failed to parse URL from [url]')
    expect(text).not.toContain('"stack"')
  })

  it('causes that loop end where the loop closes', () => {
    const a = new NetworkError({ endpoint: 'A' })
    const b = new InvalidResponseError('x', { cause: a })
    Object.defineProperty(a, 'cause', { value: b })
    expect(roundTrip(a)).toMatchObject({ code: 'NETWORK', cause: { code: 'INVALID_RESPONSE', cause: { code: 'NETWORK', circular: true } } })

    const foreign: Error & { cause?: unknown } = new Error('outer')
    foreign.cause = new Error('inner', { cause: foreign })
    expect(roundTrip(new NetworkError({ cause: foreign })).cause).toEqual({ name: 'Error', message: 'outer', cause: { name: 'Error', message: 'inner', cause: { name: 'Error', message: 'outer' } } })
  })

  it('a deep chain is cut at a bounded depth', () => {
    let error: ResilientRpcError = new NetworkError()
    for (let i = 0; i < 50; i++) error = new RetriesExhaustedError({ cause: error, attempts: [] })
    const text = JSON.stringify(error)
    expect(text.match(/"code"/g)!.length).toBeLessThan(12)
    expect(text).toContain('"truncated":true')
  })

  it('a field whose value loops or throws does not break it', () => {
    const data: Record<string, unknown> = { n: 1n }
    data.self = data
    const error = new RpcResponseError({ code: -32000, message: 'odd', data })
    Object.defineProperty(error, 'extra', { enumerable: true, get: () => { throw new Error('getter') } })
    expect(roundTrip(error)).toMatchObject({ data: { n: '1', self: '[circular]' } })
  })
})
