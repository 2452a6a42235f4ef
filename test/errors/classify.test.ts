import { describe, expect, it } from 'vitest'
import { classifyError, lacksBlock, retryAfterOf, type ErrorClass } from '../../src/errors/classify.js'
import { AbortedError, BlockUnavailableError, CircuitOpenError, NoHealthyEndpointError, PoolDestroyedError, QueueFullError, QuorumError, RetryBudgetExhaustedError, RetriesExhaustedError, TimeoutError } from '../../src/errors/request.js'
import { EndpointLaggingError, HttpError, InvalidResponseError, NetworkError, RateLimitedError, RpcResponseError, UnauthorizedError } from '../../src/errors/endpoint.js'
import { InvalidOptionError } from '../../src/errors/invalidOption.js'
import { NoCodeError } from '../../src/errors/contract.js'
import { ResilientRpcError } from '../../src/errors/base.js'

const RETRY_FAILURE: ErrorClass = { retryable: true, verdict: 'failure' }
const RETRY_NEUTRAL: ErrorClass = { retryable: true, verdict: 'neutral' }
const FATAL_NEUTRAL: ErrorClass = { retryable: false, verdict: 'neutral' }
const RATE_LIMITED: ErrorClass = { retryable: true, verdict: 'rate-limited' }

const rpc = (code: number, message: string, data?: unknown) => new RpcResponseError({ code, message, data })

describe('classifyError', () => {
  it.each([
    { name: 'TIMEOUT, attempt scope', error: new TimeoutError('attempt', 5000), expected: RETRY_FAILURE },
    { name: 'TIMEOUT, request scope', error: new TimeoutError('request', 30000), expected: { retryable: false, verdict: 'failure' } },
    { name: 'ABORTED', error: new AbortedError(), expected: FATAL_NEUTRAL },
    { name: 'CIRCUIT_OPEN', error: new CircuitOpenError(), expected: RETRY_NEUTRAL },
    { name: 'NO_ENDPOINT', error: new NoHealthyEndpointError([]), expected: RETRY_NEUTRAL },
    { name: 'POOL_DESTROYED', error: new PoolDestroyedError(), expected: FATAL_NEUTRAL },
    { name: 'NETWORK', error: new NetworkError(), expected: RETRY_FAILURE },
    { name: 'HTTP_ERROR 502', error: new HttpError(502), expected: RETRY_FAILURE },
    { name: 'HTTP_ERROR 500', error: new HttpError(500), expected: RETRY_FAILURE },
    // A body too large for this endpoint (another may take it), a plan used up: not the endpoint's fault.
    { name: 'HTTP_ERROR 413', error: new HttpError(413), expected: RETRY_NEUTRAL },
    { name: 'HTTP_ERROR 402', error: new HttpError(402), expected: RATE_LIMITED },
    { name: 'UNAUTHORIZED 401', error: new UnauthorizedError(401), expected: { retryable: true, verdict: 'unauthorized' } },
    { name: 'UNAUTHORIZED 403', error: new UnauthorizedError(403), expected: { retryable: true, verdict: 'unauthorized' } },
    { name: 'RATE_LIMITED', error: new RateLimitedError(1000), expected: RATE_LIMITED },
    { name: 'INVALID_RESPONSE', error: new InvalidResponseError('not JSON'), expected: RETRY_FAILURE },
    { name: 'RETRIES_EXHAUSTED', error: new RetriesExhaustedError({ attempts: [] }), expected: RETRY_NEUTRAL },
    { name: 'INVALID_OPTION', error: new InvalidOptionError('timeout', 'bad'), expected: FATAL_NEUTRAL },
    { name: 'NO_CODE', error: new NoCodeError('value', '0x5FbDB2315678afecb367f032d93F642f64180aa3', 'latest'), expected: FATAL_NEUTRAL },
    // The pool's own limits: retrying would add the load they exist to keep out.
    { name: 'RETRY_BUDGET_EXHAUSTED', error: new RetryBudgetExhaustedError(), expected: FATAL_NEUTRAL },
    { name: 'QUEUE_FULL', error: new QueueFullError(10, []), expected: FATAL_NEUTRAL },
    { name: 'QUORUM_FAILED', error: new QuorumError(2, []), expected: FATAL_NEUTRAL },
    // Every endpoint that could be asked said it lacks the block: asked again now, they would say the same.
    { name: 'BLOCK_UNAVAILABLE', error: new BlockUnavailableError(7n), expected: FATAL_NEUTRAL },
    { name: 'a bare base-class error by code', error: new ResilientRpcError('NETWORK', 'x'), expected: RETRY_FAILURE },
  ] as Array<{ name: string; error: unknown; expected: ErrorClass }>)('$name → $expected', ({ error, expected }) => {
    expect(classifyError(error)).toEqual(expected)
    expect(classifyError(error, { method: 'eth_call' })).toEqual(expected)
  })

  it.each([
    // Reverts, whatever the code.
    { error: rpc(3, 'execution reverted', '0x08c379a0'), expected: FATAL_NEUTRAL },
    { error: rpc(3, ''), expected: FATAL_NEUTRAL },
    { error: rpc(-32000, 'execution reverted'), expected: FATAL_NEUTRAL },
    { error: rpc(-32603, 'execution reverted: Ownable: caller is not the owner'), expected: FATAL_NEUTRAL },
    { error: rpc(-32015, 'VM Exception while processing transaction: revert'), expected: FATAL_NEUTRAL },
    { error: rpc(-32000, 'out of gas'), expected: FATAL_NEUTRAL },
    { error: rpc(-32000, 'gas required exceeds allowance (30000000)'), expected: FATAL_NEUTRAL },
    { error: rpc(-32603, 'Internal error: execution reverted'), expected: FATAL_NEUTRAL },
    // The caller's fault.
    { error: rpc(-32700, 'parse error'), expected: FATAL_NEUTRAL },
    { error: rpc(-32600, 'invalid request'), expected: FATAL_NEUTRAL },
    { error: rpc(-32602, 'invalid params'), expected: FATAL_NEUTRAL },
    { error: rpc(-32601, 'the method eth_foo does not exist/is not available'), expected: FATAL_NEUTRAL },
    { error: rpc(4001, 'User rejected the request.'), expected: FATAL_NEUTRAL },
    { error: rpc(4100, 'unauthorized'), expected: FATAL_NEUTRAL },
    { error: rpc(4200, 'unsupported method'), expected: FATAL_NEUTRAL },
    // Rate limits, by code or by message.
    { error: rpc(-32005, 'limit exceeded'), expected: RATE_LIMITED },
    { error: rpc(429, 'Too Many Requests'), expected: RATE_LIMITED },
    { error: rpc(-32029, 'slow down'), expected: RATE_LIMITED },
    { error: rpc(-32000, 'rate limit exceeded'), expected: RATE_LIMITED },
    { error: rpc(-32603, 'Your app has exceeded its compute units per second capacity'), expected: RATE_LIMITED },
    { error: rpc(-32001, 'request throttled'), expected: RATE_LIMITED },
    { error: rpc(-32602, 'rate-limited, try later'), expected: RATE_LIMITED },
    // The endpoint lacks data another may have.
    { error: rpc(-32000, 'header not found'), expected: RETRY_NEUTRAL },
    { error: rpc(-32000, 'missing trie node 1a2b (path )'), expected: RETRY_NEUTRAL },
    { error: rpc(-32000, 'unknown block'), expected: RETRY_NEUTRAL },
    { error: rpc(-32603, 'header not found'), expected: RETRY_NEUTRAL },
    // The endpoint misbehaved.
    { error: rpc(-32603, 'internal error'), expected: RETRY_FAILURE },
    { error: rpc(-32603, 'something odd'), expected: RETRY_FAILURE },
    { error: rpc(-32000, 'request timed out'), expected: RETRY_FAILURE },
    { error: rpc(-32000, 'upstream unavailable'), expected: RETRY_FAILURE },
    { error: rpc(-32099, 'server busy, try again'), expected: RETRY_FAILURE },
    // Deterministic answers.
    { error: rpc(-32000, 'nonce too low'), expected: FATAL_NEUTRAL },
    { error: rpc(-32000, 'insufficient funds for gas * price + value'), expected: FATAL_NEUTRAL },
    { error: rpc(-32000, 'already known'), expected: FATAL_NEUTRAL },
    { error: rpc(-32000, 'replacement transaction underpriced'), expected: FATAL_NEUTRAL },
    { error: rpc(1, 'anything else'), expected: FATAL_NEUTRAL },
  ])('RPC $error.rpcCode "$error.rpcMessage" → $expected', ({ error, expected }) => {
    expect(classifyError(error, { method: 'eth_call' })).toEqual(expected)
  })

  it.each([
    { name: 'a plain Error', error: new Error('fetch failed') },
    { name: 'a TypeError', error: new TypeError('Failed to fetch') },
    { name: 'an AbortError DOMException', error: new DOMException('aborted', 'AbortError') },
    { name: 'a look-alike object', error: { code: 'TIMEOUT', scope: 'attempt' } },
    { name: 'a string', error: 'TIMEOUT' },
    { name: 'undefined', error: undefined },
    { name: 'null', error: null },
  ])('a non-ResilientRpcError ($name) is not retried and says nothing about the endpoint', ({ error }) => {
    expect(classifyError(error)).toEqual(FATAL_NEUTRAL)
    expect(classifyError(error, { method: 'eth_blockNumber' })).toEqual(FATAL_NEUTRAL)
  })

  describe('methods that are unsafe to repeat', () => {
    const neverSent = [
      { name: 'RATE_LIMITED', error: new RateLimitedError(undefined), expected: RATE_LIMITED },
      { name: 'UNAUTHORIZED', error: new UnauthorizedError(401), expected: { retryable: true, verdict: 'unauthorized' } },
      { name: 'CIRCUIT_OPEN', error: new CircuitOpenError(), expected: RETRY_NEUTRAL },
      { name: 'NO_ENDPOINT', error: new NoHealthyEndpointError([]), expected: RETRY_NEUTRAL },
    ] as Array<{ name: string; error: unknown; expected: ErrorClass }>
    const maybeSent = [
      { name: 'TIMEOUT (attempt)', error: new TimeoutError('attempt', 5000), verdict: 'failure' },
      { name: 'NETWORK', error: new NetworkError(), verdict: 'failure' },
      { name: 'HTTP_ERROR', error: new HttpError(502), verdict: 'failure' },
      { name: 'INVALID_RESPONSE', error: new InvalidResponseError('not JSON'), verdict: 'failure' },
      { name: 'RPC internal error', error: rpc(-32603, 'internal error'), verdict: 'failure' },
      { name: 'RPC missing data', error: rpc(-32000, 'header not found'), verdict: 'neutral' },
      { name: 'RETRIES_EXHAUSTED', error: new RetriesExhaustedError({ attempts: [] }), verdict: 'neutral' },
    ] as Array<{ name: string; error: unknown; verdict: ErrorClass['verdict'] }>

    describe.each(['eth_sendTransaction', 'personal_sendTransaction', 'eth_signTransaction'])('%s', (method) => {
      it.each(neverSent)('is retried after $name: the request never reached a node', ({ error, expected }) => {
        expect(classifyError(error, { method })).toEqual(expected)
      })

      it.each(maybeSent)('is never retried after $name, keeping the verdict', ({ error, verdict }) => {
        expect(classifyError(error, { method })).toEqual({ retryable: false, verdict })
      })

      it('stays fatal after a revert', () => {
        expect(classifyError(rpc(3, 'execution reverted'), { method })).toEqual(FATAL_NEUTRAL)
      })
    })

    it.each(maybeSent)('eth_sendRawTransaction is retried after $name: the same signed bytes are mined at most once', ({ error, verdict }) => {
      expect(classifyError(error, { method: 'eth_sendRawTransaction' })).toEqual({ retryable: true, verdict })
    })

    it('applies only when the method is unsafe', () => {
      const timeout = new TimeoutError('attempt', 5000)
      expect(classifyError(timeout, { method: 'eth_sendTransaction' }).retryable).toBe(false)
      expect(classifyError(timeout, {}).retryable).toBe(true)
      expect(classifyError(timeout).retryable).toBe(true)
    })
  })
})

describe('log queries the node refuses as too big', () => {
  it.each([
    { code: -32005, message: 'query returned more than 10000 results' },
    { code: -32602, message: 'block range is too wide' },
    { code: -32000, message: 'exceed maximum block range: 5000' },
    { code: -32600, message: 'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range' },
  ])('$code $message: not retried, not the endpoint\'s fault', ({ code, message }) => {
    expect(classifyError(new RpcResponseError({ code, message }))).toEqual({ retryable: false, verdict: 'neutral' })
  })

  it('a real rate limit with the same code still cools the endpoint down', () => {
    expect(classifyError(new RpcResponseError({ code: -32005, message: 'daily request count exceeded, request rate limited' }))).toEqual({ retryable: true, verdict: 'rate-limited' })
  })
})

describe('a node without the block asked about', () => {
  // Each client's words (see MISSING_BLOCK in src/errors/providerMessages.ts), whatever the code: some
  // send them as invalid params, which would otherwise never be retried.
  it.each([
    { client: 'geth, state read past its head', code: -32000, message: 'header not found' },
    { client: 'geth, by hash (EIP-1898)', code: -32000, message: 'header for hash not found' },
    { client: 'geth, eth_getLogs by hash', code: -32000, message: 'unknown block' },
    { client: 'geth, Erigon, Nethermind, Besu: eth_getLogs past the head', code: -32602, message: 'block range extends beyond current head block' },
    { client: 'reth: eth_getLogs past the head', code: -32602, message: 'block range extends beyond current head block: requested 21000005, head 21000000' },
    { client: 'geth: eth_feeHistory past the head', code: -32000, message: 'request beyond head block: requested 21000005, head 21000000' },
    { client: 'reth', code: -32001, message: 'block not found: 0x1406f45' },
    { client: 'Besu', code: -32000, message: 'Block not found' },
    { client: 'Nethermind', code: -32001, message: '21000005 could not be found' },
    { client: 'anvil', code: -32602, message: 'BlockOutOfRangeError: block height is 20 but requested was 25' },
    { client: 'a provider', code: -32000, message: 'block 50162452 is beyond the latest block 50162448 of this node, retry later' },
    { client: 'Cosmos EVM', code: -32000, message: 'cannot query with height in the future; please provide a valid height' },
  ])('$client: "$message" ($code) is retried elsewhere, not held against the endpoint', ({ code, message }) => {
    const error = new RpcResponseError({ code, message })
    expect(classifyError(error, { method: 'eth_call' })).toEqual(RETRY_NEUTRAL)
    expect(lacksBlock(error)).toBe(true)
  })

  it('its null for a block lookup (LAGGING) is one too; other refusals and missing state are not', () => {
    expect(lacksBlock(new EndpointLaggingError(0n, 'Endpoint answered null for block 7'))).toBe(true)
    expect(lacksBlock(rpc(-32000, 'missing trie node 1a2b (path )'))).toBe(false)
    // reth also says this for an index past the end of a block it has: missing data, retried, but no proof it lacks the block.
    expect(lacksBlock(rpc(-32001, 'unknown block or tx index'))).toBe(false)
    expect(classifyError(rpc(-32001, 'unknown block or tx index'))).toEqual(RETRY_NEUTRAL)
    expect(lacksBlock(rpc(-32602, 'invalid block range params'))).toBe(false)
    expect(lacksBlock(rpc(3, 'execution reverted'))).toBe(false)
    expect(lacksBlock(new NetworkError())).toBe(false)
    expect(lacksBlock(new Error('header not found'))).toBe(false)
  })
})

describe('retryAfterOf', () => {
  it.each([
    { name: 'a 429 with Retry-After', error: new RateLimitedError(7_000), expected: 7_000 },
    { name: 'a 429 without', error: new RateLimitedError(undefined), expected: undefined },
    { name: "Infura's backoff_seconds in a JSON-RPC error's data", error: rpc(-32005, 'project ID request rate exceeded', { backoff_seconds: 30.0 }), expected: 30_000 },
    { name: 'backoff_seconds under rate', error: rpc(-32005, 'project ID request rate exceeded', { rate: { allowed_rps: 50, backoff_seconds: 30, current_rps: 80.9 } }), expected: 30_000 },
    { name: 'a JSON-RPC error without one', error: rpc(-32005, 'limit exceeded', { see: 'https://infura.io' }), expected: undefined },
    { name: 'a negative back-off', error: rpc(-32005, 'limit exceeded', { backoff_seconds: -1 }), expected: undefined },
    { name: 'another error', error: new NetworkError(), expected: undefined },
  ] as Array<{ name: string; error: unknown; expected: number | undefined }>)('$name → $expected', ({ error, expected }) => {
    expect(retryAfterOf(error)).toBe(expected)
  })
})
