import { describe, expect, it } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { RpcResponseError } from '../../src/errors/endpoint.js'
import { unwrapResponse } from '../../src/transport/jsonrpc.js'

/** Runs `fn` and returns what it threw; fails the test if it returned. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('unwrapResponse', () => {
  it.each([
    { name: 'a hex string', result: '0x10' },
    { name: 'null', result: null },
    { name: 'false', result: false },
    { name: 'zero', result: 0 },
    { name: 'an empty string', result: '' },
    { name: 'an object', result: { number: '0x1', hash: '0xab' } },
    { name: 'an array', result: ['0x1', '0x2'] },
  ])('returns the result: $name', ({ result }) => {
    expect(unwrapResponse({ jsonrpc: '2.0', id: 7, result }, 7)).toEqual(result)
  })

  it.each([
    { name: 'error null', body: { jsonrpc: '2.0', id: 1, result: '0x1', error: null } },
    { name: 'error undefined', body: { jsonrpc: '2.0', id: 1, result: '0x1', error: undefined } },
    { name: 'no jsonrpc member', body: { id: 1, result: '0x1' } },
  ])('returns the result when $name', ({ body }) => {
    expect(unwrapResponse(body, 1)).toBe('0x1')
  })

  it.each([
    { name: 'revert with data', error: { code: 3, message: 'execution reverted: nope', data: '0x08c379a0' } },
    { name: 'no data', error: { code: -32602, message: 'invalid params' } },
    { name: 'object data', error: { code: -32000, message: 'header not found', data: { block: '0x1' } } },
  ])('throws RpcResponseError keeping code, message and data: $name', ({ error }) => {
    const e = thrown(() => unwrapResponse({ jsonrpc: '2.0', id: 3, error }, 3))
    expect(e).toBeInstanceOf(RpcResponseError)
    expect(isResilientRpcError(e, 'RPC_ERROR')).toBe(true)
    expect(e).toMatchObject({ rpcCode: error.code, rpcMessage: error.message, data: error.data, shortMessage: `RPC error ${error.code}: ${error.message}` })
  })

  it('prefers the error when both result and error are present', () => {
    const e = thrown(() => unwrapResponse({ jsonrpc: '2.0', id: 1, result: '0x1', error: { code: -32000, message: 'boom' } }, 1))
    expect(isResilientRpcError(e, 'RPC_ERROR')).toBe(true)
  })

  it('passes endpoint and details to the thrown errors', () => {
    const rpc = thrown(() => unwrapResponse({ id: 1, error: { code: -32000, message: 'boom' } }, 1, { endpoint: 'node-a' }))
    expect(rpc).toMatchObject({ code: 'RPC_ERROR', endpoint: 'node-a' })
    const invalid = thrown(() => unwrapResponse({ id: 2 }, 1, { endpoint: 'node-b', details: 'status 200' }))
    expect(invalid).toMatchObject({ code: 'INVALID_RESPONSE', endpoint: 'node-b', details: 'status 200' })
  })

  it.each([
    { name: 'wrong id', body: { jsonrpc: '2.0', id: 2, result: '0x1' }, reason: 'id 2 does not match request id 1' },
    { name: 'id as a string', body: { jsonrpc: '2.0', id: '1', result: '0x1' }, reason: 'id "1" does not match request id 1' },
    { name: 'missing id', body: { jsonrpc: '2.0', result: '0x1' }, reason: 'id undefined does not match request id 1' },
    { name: 'null id', body: { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }, reason: 'id null does not match request id 1' },
    { name: 'neither result nor error', body: { jsonrpc: '2.0', id: 1 }, reason: 'neither result nor error' },
    { name: 'error null and no result', body: { jsonrpc: '2.0', id: 1, error: null }, reason: 'neither result nor error' },
    { name: 'null body', body: null, reason: 'expected an object, got null' },
    { name: 'undefined body', body: undefined, reason: 'expected an object, got undefined' },
    { name: 'string body', body: 'Bad Gateway', reason: 'expected an object, got string' },
    { name: 'number body', body: 42, reason: 'expected an object, got number' },
    { name: 'batch array body', body: [{ jsonrpc: '2.0', id: 1, result: '0x1' }], reason: 'expected an object, got an array' },
    { name: 'error as a string', body: { jsonrpc: '2.0', id: 1, error: 'boom' }, reason: 'malformed error object' },
    { name: 'error without code', body: { jsonrpc: '2.0', id: 1, error: { message: 'boom' } }, reason: 'malformed error object' },
    { name: 'error with string code', body: { jsonrpc: '2.0', id: 1, error: { code: '-32000', message: 'boom' } }, reason: 'malformed error object' },
    { name: 'error without message', body: { jsonrpc: '2.0', id: 1, error: { code: -32000 } }, reason: 'malformed error object' },
  ])('throws InvalidResponseError for $name', ({ body, reason }) => {
    const e = thrown(() => unwrapResponse(body, 1))
    expect(isResilientRpcError(e, 'INVALID_RESPONSE')).toBe(true)
    expect(isResilientRpcError(e, 'RPC_ERROR')).toBe(false)
    expect((e as Error).message).toBe(`Invalid JSON-RPC response: ${reason}`)
  })
})
