import { AbiCoder, Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import { decodeRevert, isRevert, revertData } from '../../src/contract/revert.js'
import { ContractRevertError } from '../../src/errors/contract.js'
import { NetworkError, RpcResponseError } from '../../src/errors/endpoint.js'
import { TimeoutError } from '../../src/errors/request.js'
import { counterAbi } from '../fixtures/contracts/counter.js'

// Revert data as nodes return it: the three encodings Solidity produces, and everything that is not one.

const coder = AbiCoder.defaultAbiCoder()
const iface = new Interface(counterAbi)
const CALLER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

// Written out rather than encoded by the library under test: what solc emits for `require(false, 'counter: nope')`.
const ERROR_NOPE =
  '0x08c379a0' +
  '0000000000000000000000000000000000000000000000000000000000000020' +
  '000000000000000000000000000000000000000000000000000000000000000d' +
  '636f756e7465723a206e6f706500000000000000000000000000000000000000'
const panic = (code: number) => `0x4e487b71${coder.encode(['uint256'], [code]).slice(2)}`
// Unauthorized(address,uint256): selector 0xda472023.
const UNAUTHORIZED = `0xda472023${coder.encode(['address', 'uint256'], [CALLER, 7]).slice(2)}`

describe('decodeRevert: panics are named', () => {
  it.each([
    ['0x00', 'generic compiler panic', 'Panic(0x00): generic compiler panic'],
    ['0x01', 'assertion failed', 'Panic(0x01): assertion failed'],
    ['0x11', 'arithmetic overflow or underflow', 'Panic(0x11): arithmetic overflow or underflow'],
    ['0x12', 'division or modulo by zero', 'Panic(0x12): division or modulo by zero'],
    ['0x21', 'invalid enum value', 'Panic(0x21): invalid enum value'],
    ['0x22', 'invalid storage byte array encoding', 'Panic(0x22): invalid storage byte array encoding'],
    ['0x31', 'pop on an empty array', 'Panic(0x31): pop on an empty array'],
    ['0x32', 'array index out of bounds', 'Panic(0x32): array index out of bounds'],
    ['0x41', 'out of memory (too large an allocation)', 'Panic(0x41): out of memory (too large an allocation)'],
    ['0x51', 'call to a zero-initialised internal function', 'Panic(0x51): call to a zero-initialised internal function'],
    ['0x99', 'unknown panic code', 'Panic(0x99): unknown panic code'],
    ['0x1234', 'unknown panic code', 'Panic(0x1234): unknown panic code'],
  ] as const)('Panic(%s): %s', (code, name, message) => {
    const revert = decodeRevert(panic(Number(code)))
    expect(revert).toStrictEqual({ errorName: 'Panic', signature: 'Panic(uint256)', args: [BigInt(code)], panic: { code: BigInt(code), name } })
    expect(new ContractRevertError('f', revert, panic(Number(code))).shortMessage).toBe(`f reverted: ${message}`)
  })
})

describe('decodeRevert', () => {
  it.each([
    { name: 'Error(string)', data: ERROR_NOPE, expected: { errorName: 'Error', signature: 'Error(string)', args: ['counter: nope'], reason: 'counter: nope' } },
    { name: 'Error(string), upper-case hex', data: `0x${ERROR_NOPE.slice(2).toUpperCase()}`, expected: { errorName: 'Error', signature: 'Error(string)', args: ['counter: nope'], reason: 'counter: nope' } },
    { name: 'Error(string) with an empty reason', data: `0x08c379a0${coder.encode(['string'], ['']).slice(2)}`, expected: { errorName: 'Error', signature: 'Error(string)', args: [''], reason: '' } },
    { name: 'Panic(0x11): arithmetic overflow', data: panic(0x11), expected: { errorName: 'Panic', signature: 'Panic(uint256)', args: [0x11n], panic: { code: 0x11n, name: 'arithmetic overflow or underflow' } } },
    { name: 'Panic(0x12): division by zero', data: panic(0x12), expected: { errorName: 'Panic', signature: 'Panic(uint256)', args: [0x12n], panic: { code: 0x12n, name: 'division or modulo by zero' } } },
    { name: 'Error(string) with control characters', data: `0x08c379a0${coder.encode(['string'], ['a\u0000b\tc\u009b']).slice(2)}`, expected: { errorName: 'Error', signature: 'Error(string)', args: ['a\u0000b\tc\u009b'], reason: 'a\\x00b\\tc\\x9b' } },
  ])('decodes $name without an ABI', ({ data, expected }) => {
    const decoded = decodeRevert(data)
    expect(decoded).toStrictEqual(expected)
    // The built-in errors decode the same with an ABI that does not declare them.
    expect(decodeRevert(data, iface)).toStrictEqual(expected)
  })

  it('decodes a custom error the ABI declares, with its arguments in order', () => {
    expect(decodeRevert(UNAUTHORIZED, iface)).toStrictEqual({ errorName: 'Unauthorized', signature: 'Unauthorized(address,uint256)', args: [CALLER, 7n] })
  })

  it('does not know a custom error without the ABI that declares it', () => {
    expect(decodeRevert(UNAUTHORIZED)).toBeUndefined()
    expect(decodeRevert(UNAUTHORIZED, new Interface(['function value() view returns (uint256)']))).toBeUndefined()
  })

  it.each([
    { name: 'undefined', data: undefined },
    { name: 'the empty string', data: '' },
    { name: "'0x' (revert without data)", data: '0x' },
    { name: 'fewer than 4 bytes', data: '0x08c379' },
    { name: 'no 0x prefix', data: ERROR_NOPE.slice(2) },
    { name: 'not hex at all', data: 'execution reverted' },
    { name: 'an unknown selector', data: `0xdeadbeef${'00'.repeat(32)}` },
    { name: 'a bare Error(string) selector', data: '0x08c379a0' },
    { name: 'a truncated Error(string)', data: ERROR_NOPE.slice(0, 10 + 64 + 64) },
    { name: 'a truncated Panic', data: panic(0x11).slice(0, 40) },
    { name: 'a truncated custom error', data: UNAUTHORIZED.slice(0, 10 + 64) },
    { name: 'a selector followed by non-hex', data: '0x08c379a0zz' },
  ])('returns undefined for $name', ({ data }) => {
    expect(decodeRevert(data, iface)).toBeUndefined()
  })
})

const rpcError = (code: number, message: string, data?: unknown) => new RpcResponseError({ code, message, data }, { endpoint: 'http://a:80#0' })

describe('revertData', () => {
  it.each([
    { name: 'string data (geth, anvil)', error: rpcError(3, 'execution reverted', ERROR_NOPE), expected: ERROR_NOPE },
    { name: "'0x' data", error: rpcError(3, 'execution reverted', '0x'), expected: '0x' },
    { name: 'data nested one level ({ data })', error: rpcError(-32000, 'execution reverted', { data: UNAUTHORIZED, message: 'x' }), expected: UNAUTHORIZED },
    { name: 'no data', error: rpcError(3, 'execution reverted'), expected: undefined },
    { name: 'data with half a byte', error: rpcError(3, 'execution reverted', '0x08c379a'), expected: undefined },
    { name: 'prose in data', error: rpcError(-32602, 'invalid params', 'missing 0x prefix'), expected: undefined },
    { name: 'null data', error: rpcError(3, 'execution reverted', null), expected: undefined },
    { name: 'nested data that is not a string', error: rpcError(-32000, 'execution reverted', { data: 42 }), expected: undefined },
    { name: 'data of another type', error: rpcError(-32000, 'execution reverted', 42), expected: undefined },
    { name: 'a network error', error: new NetworkError({ endpoint: 'http://a:80#0' }), expected: undefined },
    { name: 'a timeout', error: new TimeoutError('request', 1_000), expected: undefined },
    { name: 'a plain Error carrying data', error: Object.assign(new Error('execution reverted'), { data: ERROR_NOPE }), expected: undefined },
    { name: 'a plain object shaped like an RPC error', error: { code: 'RPC_ERROR', rpcCode: 3, rpcMessage: 'execution reverted', data: ERROR_NOPE }, expected: undefined },
    { name: 'undefined', error: undefined, expected: undefined },
  ])('$name → $expected', ({ error, expected }) => {
    expect(revertData(error)).toBe(expected)
  })
})

describe('isRevert', () => {
  it.each([
    { name: 'code 3 (geth), no message hint', error: rpcError(3, 'oops', ERROR_NOPE), expected: true },
    { name: 'code 3 without data (revert without reason)', error: rpcError(3, 'execution reverted'), expected: true },
    { name: "'execution reverted' with a generic code", error: rpcError(-32000, 'execution reverted'), expected: true },
    { name: "'Execution Reverted: …' in another case", error: rpcError(-32603, 'Execution Reverted: counter: nope'), expected: true },
    { name: 'revert data with a generic code and message', error: rpcError(-32015, 'VM execution error.', { data: ERROR_NOPE }), expected: true },
    { name: 'out of gas (the classifier reads it as a revert too)', error: rpcError(-32000, 'out of gas'), expected: true },
    { name: 'invalid opcode', error: rpcError(-32015, 'VM execution error: invalid opcode'), expected: true },
    { name: 'invalid params (-32602)', error: rpcError(-32602, 'invalid argument 0: hex string without 0x prefix'), expected: false },
    { name: 'method not found (-32601)', error: rpcError(-32601, 'the method eth_foo does not exist/is not available'), expected: false },
    { name: 'header not found', error: rpcError(-32000, 'header not found'), expected: false },
    { name: 'a network error', error: new NetworkError(), expected: false },
    { name: 'a timeout', error: new TimeoutError('attempt', 500), expected: false },
    { name: 'a plain Error saying revert', error: new Error('execution reverted'), expected: false },
    { name: 'null', error: null, expected: false },
  ])('$name → $expected', ({ error, expected }) => {
    expect(isRevert(error)).toBe(expected)
  })
})
