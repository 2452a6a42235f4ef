import { describe, expect, it } from 'vitest'
import { AbortedError, CircuitOpenError, NoHealthyEndpointError, PoolDestroyedError, RetriesExhaustedError, TimeoutError } from '../../src/errors/request.js'
import { HttpError, InvalidResponseError, NetworkError, RateLimitedError, RpcResponseError, UnauthorizedError, isJsonRpcErrorObject } from '../../src/errors/endpoint.js'
import { InvalidOptionError } from '../../src/errors/invalidOption.js'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { ResilientRpcError, type Attempt, type ErrorCode } from '../../src/errors/base.js'

const BRAND = Symbol.for('resilient-rpc.error')

const ATTEMPTS: Attempt[] = [
  { endpoint: 'https://a.example:443#0', error: new TimeoutError('attempt', 5000), duration: 5000.4 },
  { endpoint: 'node-b', error: new HttpError(503), duration: 12.6 },
  { endpoint: 'https://c.example:8545#2', error: new RpcResponseError({ code: -32603, message: 'internal error' }), duration: 40 },
]

// One instance of every class, with the code, name and short message it must carry.
const CASES: Array<{ error: ResilientRpcError; code: ErrorCode; name: string; shortMessage: string }> = [
  { error: new ResilientRpcError('NETWORK', 'Base'), code: 'NETWORK', name: 'ResilientRpcError', shortMessage: 'Base' },
  { error: new TimeoutError('request', 30000), code: 'TIMEOUT', name: 'TimeoutError', shortMessage: 'Request timed out after 30000 ms' },
  { error: new TimeoutError('attempt', 5000), code: 'TIMEOUT', name: 'TimeoutError', shortMessage: 'Attempt timed out after 5000 ms' },
  { error: new AbortedError(), code: 'ABORTED', name: 'AbortedError', shortMessage: 'Request was aborted by the caller' },
  { error: new CircuitOpenError(), code: 'CIRCUIT_OPEN', name: 'CircuitOpenError', shortMessage: 'Circuit breaker is open' },
  { error: new NoHealthyEndpointError([]), code: 'NO_ENDPOINT', name: 'NoHealthyEndpointError', shortMessage: 'No endpoint available' },
  { error: new PoolDestroyedError(), code: 'POOL_DESTROYED', name: 'PoolDestroyedError', shortMessage: 'Pool was destroyed' },
  { error: new NetworkError(), code: 'NETWORK', name: 'NetworkError', shortMessage: 'Network error' },
  { error: new HttpError(502), code: 'HTTP_ERROR', name: 'HttpError', shortMessage: 'HTTP 502' },
  { error: new UnauthorizedError(401), code: 'UNAUTHORIZED', name: 'UnauthorizedError', shortMessage: 'HTTP 401: endpoint refused the credentials' },
  { error: new RateLimitedError(undefined), code: 'RATE_LIMITED', name: 'RateLimitedError', shortMessage: 'Rate limited' },
  { error: new RateLimitedError(1500), code: 'RATE_LIMITED', name: 'RateLimitedError', shortMessage: 'Rate limited (retry after 1500 ms)' },
  { error: new InvalidResponseError('not JSON'), code: 'INVALID_RESPONSE', name: 'InvalidResponseError', shortMessage: 'Invalid JSON-RPC response: not JSON' },
  { error: new RpcResponseError({ code: 3, message: 'execution reverted' }), code: 'RPC_ERROR', name: 'RpcResponseError', shortMessage: 'RPC error 3: execution reverted' },
  { error: new RetriesExhaustedError({ attempts: ATTEMPTS }), code: 'RETRIES_EXHAUSTED', name: 'RetriesExhaustedError', shortMessage: 'All 3 attempts failed' },
  { error: new InvalidOptionError('endpoints[1].weight', 'expected a finite number > 0, got 0'), code: 'INVALID_OPTION', name: 'InvalidOptionError', shortMessage: 'Invalid option `endpoints[1].weight`: expected a finite number > 0, got 0' },
]

describe('error hierarchy', () => {
  it.each(CASES.map((c) => ({ ...c, label: `${c.name} ${c.code}` })))('$label carries its code, name and shortMessage', ({ error, code, name, shortMessage }) => {
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(ResilientRpcError)
    expect(error.code).toBe(code)
    expect(error.name).toBe(name)
    expect(error.shortMessage).toBe(shortMessage)
    expect(error.message.split('\n')[0]).toBe(shortMessage)
    expect(String(error).startsWith(`${name}: ${shortMessage}`)).toBe(true)
    expect(isResilientRpcError(error)).toBe(true)
    expect(isResilientRpcError(error, code)).toBe(true)
    expect(isResilientRpcError(error, code === 'ABORTED' ? 'TIMEOUT' : 'ABORTED')).toBe(false)
  })

  it('covers every error code with a class', () => {
    const codes = new Set(CASES.map((c) => c.code))
    expect([...codes].sort()).toEqual([
      'ABORTED', 'CIRCUIT_OPEN', 'HTTP_ERROR', 'INVALID_OPTION', 'INVALID_RESPONSE', 'NETWORK', 'NO_ENDPOINT',
      'POOL_DESTROYED', 'RATE_LIMITED', 'RETRIES_EXHAUSTED', 'RPC_ERROR', 'TIMEOUT', 'UNAUTHORIZED',
    ])
  })

  it('UnauthorizedError is an HttpError with its status', () => {
    const e = new UnauthorizedError(403)
    expect(e).toBeInstanceOf(HttpError)
    expect(e.status).toBe(403)
    expect(isResilientRpcError(e, 'HTTP_ERROR')).toBe(false)
  })

  it('keeps the class-specific fields', () => {
    expect(new TimeoutError('attempt', 250)).toMatchObject({ scope: 'attempt', timeout: 250 })
    expect(new HttpError(500)).toMatchObject({ status: 500 })
    expect(new RateLimitedError(2000)).toMatchObject({ retryAfter: 2000 })
    expect(new RateLimitedError(undefined).retryAfter).toBeUndefined()
    expect(new RpcResponseError({ code: -32000, message: 'x', data: '0xdead' })).toMatchObject({ rpcCode: -32000, rpcMessage: 'x', data: '0xdead' })
    expect(new InvalidOptionError('retries', 'bad').option).toBe('retries')
    const excluded = [{ endpoint: 'a', reason: 'circuit open' }]
    expect(new NoHealthyEndpointError(excluded).excluded).toEqual(excluded)
    expect(new RetriesExhaustedError({ attempts: ATTEMPTS }).attempts).toEqual(ATTEMPTS)
  })

  it('defaults details, endpoint and attempts', () => {
    const e = new NetworkError()
    expect(e.details).toBeUndefined()
    expect(e.endpoint).toBeUndefined()
    expect(e.attempts).toEqual([])
    expect(e.excluded).toEqual([])
    expect(e.cause).toBeUndefined()
    expect('cause' in e).toBe(false)
  })

  it.each([
    { name: 'an Error', cause: new TypeError('fetch failed') },
    { name: 'a DOMException', cause: new DOMException('This operation was aborted', 'AbortError') },
    { name: 'a string', cause: 'reason' },
    { name: 'null', cause: null },
    { name: 'an object', cause: { code: 'ECONNRESET' } },
  ])('passes the cause through: $name', ({ cause }) => {
    expect(new NetworkError({ cause }).cause).toBe(cause)
    expect(new TimeoutError('attempt', 1, { cause }).cause).toBe(cause)
    expect(new RpcResponseError({ code: 1, message: 'm' }, { cause }).cause).toBe(cause)
    expect(new UnauthorizedError(401, { cause }).cause).toBe(cause)
    expect(new RetriesExhaustedError({ attempts: [], cause }).cause).toBe(cause)
    expect(new InvalidOptionError('x', 'y', { cause }).cause).toBe(cause)
  })

  it('NoHealthyEndpointError falls back to the given details when nothing is excluded', () => {
    expect(new NoHealthyEndpointError([], { details: 'pool has no endpoints' }).details).toBe('pool has no endpoints')
    expect(new NoHealthyEndpointError([{ endpoint: 'a', reason: 'circuit open' }], { details: 'ignored' }).details).toBe('a: circuit open')
  })
})

describe('isResilientRpcError', () => {
  it('narrows by code', () => {
    const e: unknown = new TimeoutError('attempt', 100)
    if (!isResilientRpcError(e, 'TIMEOUT')) throw new Error('expected a timeout')
    expect(e.scope).toBe('attempt')
  })

  it('recognises a copy from a duplicate install by its registered brand, without instanceof', () => {
    const copy = { ...new TimeoutError('request', 10) }
    expect(copy).not.toBeInstanceOf(ResilientRpcError)
    expect(isResilientRpcError(copy)).toBe(true)
    expect(isResilientRpcError(copy, 'TIMEOUT')).toBe(true)
    expect(isResilientRpcError(copy, 'NETWORK')).toBe(false)

    const foreign = Object.assign(new Error('from another copy'), { [BRAND]: true, code: 'RATE_LIMITED' })
    expect(isResilientRpcError(foreign)).toBe(true)
    expect(isResilientRpcError(foreign, 'RATE_LIMITED')).toBe(true)
    expect(isResilientRpcError(foreign, 'TIMEOUT')).toBe(false)
  })

  it.each([
    { name: 'undefined', value: undefined },
    { name: 'null', value: null },
    { name: 'a string', value: 'TIMEOUT' },
    { name: 'a number', value: 42 },
    { name: 'a plain Error', value: new Error('boom') },
    { name: 'an Error with a code', value: Object.assign(new Error('boom'), { code: 'TIMEOUT' }) },
    { name: 'an object with a code', value: { code: 'TIMEOUT', shortMessage: 'x' } },
    { name: 'a module-local symbol of the same name', value: { [Symbol('resilient-rpc.error')]: true, code: 'TIMEOUT' } },
    { name: 'a string brand key', value: { 'resilient-rpc.error': true, code: 'TIMEOUT' } },
    { name: 'a truthy non-true brand', value: { [BRAND]: 1, code: 'TIMEOUT' } },
    { name: 'a function', value: () => undefined },
  ])('rejects $name', ({ value }) => {
    expect(isResilientRpcError(value)).toBe(false)
    expect(isResilientRpcError(value, 'TIMEOUT')).toBe(false)
  })
})

describe('messages', () => {
  it('ResilientRpcError with endpoint and details', () => {
    expect(new ResilientRpcError('NETWORK', 'Socket closed', { endpoint: 'https://a.example:443#0', details: 'ECONNRESET' }).message).toMatchInlineSnapshot(`
      "Socket closed
      Endpoint: https://a.example:443#0
      Details: ECONNRESET"
    `)
  })

  it('TimeoutError (request)', () => {
    expect(new TimeoutError('request', 30000).message).toMatchInlineSnapshot(`"Request timed out after 30000 ms"`)
  })

  it('TimeoutError (attempt)', () => {
    expect(new TimeoutError('attempt', 5000, { endpoint: 'node-a' }).message).toMatchInlineSnapshot(`
      "Attempt timed out after 5000 ms
      Endpoint: node-a"
    `)
  })

  it('AbortedError', () => {
    expect(new AbortedError({ cause: new Error('user navigated away') }).message).toMatchInlineSnapshot(`"Request was aborted by the caller"`)
  })

  it('CircuitOpenError', () => {
    expect(new CircuitOpenError({ endpoint: 'http://127.0.0.1:8545#1' }).message).toMatchInlineSnapshot(`
      "Circuit breaker is open
      Endpoint: http://127.0.0.1:8545#1"
    `)
  })

  it('NoHealthyEndpointError listing exclusions', () => {
    const e = new NoHealthyEndpointError([
      { endpoint: 'https://a.example:443#0', reason: 'circuit open' },
      { endpoint: 'node-b', reason: 'rate limited (for 800 ms more)' },
      { endpoint: 'http://10.0.0.3:8545#2', reason: 'HTTP 401: endpoint refused the credentials (for 59000 ms more)' },
    ])
    expect(e.message).toMatchInlineSnapshot(`
      "No endpoint available
      Details: https://a.example:443#0: circuit open; node-b: rate limited (for 800 ms more); http://10.0.0.3:8545#2: HTTP 401: endpoint refused the credentials (for 59000 ms more)"
    `)
  })

  it('PoolDestroyedError', () => {
    expect(new PoolDestroyedError().message).toMatchInlineSnapshot(`"Pool was destroyed"`)
  })

  it('NetworkError', () => {
    expect(new NetworkError({ endpoint: 'node-a', details: 'connect ECONNREFUSED 127.0.0.1:8545' }).message).toMatchInlineSnapshot(`
      "Network error
      Endpoint: node-a
      Details: connect ECONNREFUSED 127.0.0.1:8545"
    `)
  })

  it('HttpError', () => {
    expect(new HttpError(503, { endpoint: 'node-a' }).message).toMatchInlineSnapshot(`
      "HTTP 503
      Endpoint: node-a"
    `)
  })

  it('UnauthorizedError', () => {
    expect(new UnauthorizedError(403, { endpoint: 'https://mainnet.example:443#0' }).message).toMatchInlineSnapshot(`
      "HTTP 403: endpoint refused the credentials
      Endpoint: https://mainnet.example:443#0"
    `)
  })

  it('RateLimitedError', () => {
    expect(new RateLimitedError(2000, { endpoint: 'node-a' }).message).toMatchInlineSnapshot(`
      "Rate limited (retry after 2000 ms)
      Endpoint: node-a"
    `)
  })

  it('InvalidResponseError', () => {
    expect(new InvalidResponseError('id 2 does not match request id 1').message).toMatchInlineSnapshot(`"Invalid JSON-RPC response: id 2 does not match request id 1"`)
  })

  it('RpcResponseError', () => {
    expect(new RpcResponseError({ code: 3, message: 'execution reverted: Ownable: caller is not the owner', data: '0x08c379a0' }, { endpoint: 'node-a' }).message).toMatchInlineSnapshot(`
      "RPC error 3: execution reverted: Ownable: caller is not the owner
      Endpoint: node-a"
    `)
  })

  it('RetriesExhaustedError listing 3 attempts', () => {
    expect(new RetriesExhaustedError({ attempts: ATTEMPTS, cause: ATTEMPTS[2]!.error }).message).toMatchInlineSnapshot(`
      "All 3 attempts failed
      Attempts:
        1. https://a.example:443#0 (5000 ms): [TIMEOUT] Attempt timed out after 5000 ms
        2. node-b (13 ms): [HTTP_ERROR] HTTP 503
        3. https://c.example:8545#2 (40 ms): [RPC_ERROR] RPC error -32603: internal error"
    `)
  })

  it('RetriesExhaustedError listing the endpoints it did not try', () => {
    const excluded = [
      { endpoint: 'node-d', reason: 'down: Network error: host not found (ENOTFOUND)' },
      { endpoint: 'node-e', reason: 'circuit open' },
    ]
    const e = new RetriesExhaustedError({ attempts: ATTEMPTS.slice(0, 2), excluded })
    expect(e.excluded).toEqual(excluded)
    expect(e.message).toMatchInlineSnapshot(`
      "All 2 attempts failed
      Attempts:
        1. https://a.example:443#0 (5000 ms): [TIMEOUT] Attempt timed out after 5000 ms
        2. node-b (13 ms): [HTTP_ERROR] HTTP 503
      Endpoints not tried:
        - node-d: down: Network error: host not found (ENOTFOUND)
        - node-e: circuit open"
    `)
  })

  it('InvalidOptionError', () => {
    expect(new InvalidOptionError('endpoints[0].headers.Authorization', 'expected "<scheme> <credentials>", e.g. "Bearer <token>"').message).toMatchInlineSnapshot(`"Invalid option \`endpoints[0].headers.Authorization\`: expected "<scheme> <credentials>", e.g. "Bearer <token>""`)
  })
})

describe('isJsonRpcErrorObject', () => {
  it.each([
    { name: 'code and message', value: { code: -32000, message: 'execution reverted' }, expected: true },
    { name: 'with data', value: { code: 3, message: 'execution reverted', data: '0x08c379a0' }, expected: true },
    { name: 'positive code, empty message', value: { code: 4001, message: '' }, expected: true },
    { name: 'extra fields', value: { code: 1, message: 'x', extra: true }, expected: true },
    { name: 'null', value: null, expected: false },
    { name: 'undefined', value: undefined, expected: false },
    { name: 'a string', value: 'execution reverted', expected: false },
    { name: 'a number', value: -32000, expected: false },
    { name: 'empty object', value: {}, expected: false },
    { name: 'no message', value: { code: -32000 }, expected: false },
    { name: 'no code', value: { message: 'oops' }, expected: false },
    { name: 'string code', value: { code: '-32000', message: 'oops' }, expected: false },
    { name: 'fractional code', value: { code: 1.5, message: 'oops' }, expected: false },
    { name: 'NaN code', value: { code: Number.NaN, message: 'oops' }, expected: false },
    { name: 'non-string message', value: { code: -32000, message: { text: 'oops' } }, expected: false },
    { name: 'an array', value: [-32000, 'oops'], expected: false },
  ])('$name → $expected', ({ value, expected }) => {
    expect(isJsonRpcErrorObject(value)).toBe(expected)
  })
})
