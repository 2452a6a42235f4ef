import { describe, expect, it } from 'vitest'
import { createContract } from '../../src/contract/contract.js'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { Pool } from '../../src/pool/pool.js'
import { counterAbi } from '../fixtures/contracts/counter.js'

// An argument that does not encode is named: its position and name in the ABI, its type, and what is
// wrong with the value, in ethers' verdict worded for the caller. Encoding sends nothing: no pool needed.

const pool = {} as Pool
const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const counter = createContract(pool, ADDRESS, counterAbi)
const wide = createContract(pool, ADDRESS, [
  'function f(uint8 small, int16 signed, bytes32 tag, address who, bytes data, string note)',
  'function g(uint256[2] pair, (uint256 amount, address to) order, (uint64, bool)[] list)',
  'function h(uint256, uint256)',
])
const ZERO = `0x${'00'.repeat(32)}`
const WHO = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
const GOOD = [1, -1, ZERO, WHO, '0x', 'ok'] as const

function problem(fn: () => unknown): { option: string; message: string } {
  try {
    fn()
  } catch (error) {
    expect(isResilientRpcError(error, 'INVALID_OPTION'), String(error)).toBe(true)
    const e = error as { option: string; message: string; cause: unknown }
    // ethers' own error stays the cause, for whoever wants its details.
    expect(e.cause).toBeInstanceOf(Error)
    return { option: e.option, message: e.message }
  }
  return expect.unreachable('encoded')
}

const withArg = (i: number, value: unknown) => GOOD.map((v, j) => (j === i ? value : v))

describe('arguments that do not encode are named', () => {
  it('read("failCustom", ["x"]): the argument, its type, and that it is not a number', () => {
    expect(problem(() => counter.encode('failCustom', ['x']))).toMatchInlineSnapshot(`
      {
        "message": "Invalid option \`args[0]\`: cannot encode argument 0 \`code\` (uint256) of failCustom(uint256): "x" is not a number",
        "option": "args[0]",
      }
    `)
  })

  it.each([
    { name: 'out of range for uint8', args: withArg(0, 256), message: 'cannot encode argument 0 `small` (uint8) of f(uint8,int16,bytes32,address,bytes,string): 256 is out of range for uint8 (0 to 255)' },
    { name: 'negative for uint8', args: withArg(0, -1n), message: 'cannot encode argument 0 `small` (uint8) of f(uint8,int16,bytes32,address,bytes,string): -1 is out of range for uint8 (0 to 255)' },
    { name: 'not an integer', args: withArg(0, 1.5), message: 'cannot encode argument 0 `small` (uint8) of f(uint8,int16,bytes32,address,bytes,string): 1.5 is not an integer' },
    { name: 'out of range for int16', args: withArg(1, 40_000), message: 'cannot encode argument 1 `signed` (int16) of f(uint8,int16,bytes32,address,bytes,string): 40000 is out of range for int16 (-32768 to 32767)' },
    { name: 'wrong length for bytes32', args: withArg(2, '0x1234'), message: 'cannot encode argument 2 `tag` (bytes32) of f(uint8,int16,bytes32,address,bytes,string): "0x1234" has 2 bytes, bytes32 needs 32' },
    { name: 'not hex for bytes32', args: withArg(2, 'tag'), message: 'cannot encode argument 2 `tag` (bytes32) of f(uint8,int16,bytes32,address,bytes,string): "tag" is not hex data (0x and an even number of hex digits)' },
    { name: 'a bad address checksum', args: withArg(3, '0x70997970C51812dc3A010C7d01b50e0d17dc79c8'), message: 'cannot encode argument 3 `who` (address) of f(uint8,int16,bytes32,address,bytes,string): "0x70997970C51812dc3A010C7d01b50e0d17dc79c8" has a bad checksum (mixed case that is not EIP-55: check the address, or write it in lower case)' },
    { name: 'not an address', args: withArg(3, 'vitalik.eth'), message: 'cannot encode argument 3 `who` (address) of f(uint8,int16,bytes32,address,bytes,string): "vitalik.eth" is not an address (0x and 40 hex digits; ENS names are not resolved)' },
    { name: 'odd hex for bytes', args: withArg(4, '0x123'), message: 'cannot encode argument 4 `data` (bytes) of f(uint8,int16,bytes32,address,bytes,string): "0x123" is not hex data (0x and an even number of hex digits)' },
    { name: 'not a string', args: withArg(5, 5), message: 'cannot encode argument 5 `note` (string) of f(uint8,int16,bytes32,address,bytes,string): 5 is not a string' },
    { name: 'a missing value', args: withArg(5, undefined), message: 'cannot encode argument 5 `note` (string) of f(uint8,int16,bytes32,address,bytes,string): is missing' },
  ])('$name', ({ args, message }) => {
    const { option, message: full } = problem(() => wide.encode('f', args))
    expect(full).toBe(`Invalid option \`${option}\`: ${message}`)
    expect(option).toMatch(/^args\[\d\]$/)
  })

  it.each([
    { name: 'an element of a fixed array', args: [[1, 'z'], [1, WHO], []], option: 'args[0][1]', message: 'cannot encode argument 0 `pair` (uint256[2]) of g(uint256[2],(uint256,address),(uint64,bool)[]), at [1] (uint256): "z" is not a number' },
    { name: 'a fixed array of the wrong length', args: [[1], [1, WHO], []], option: 'args[0]', message: 'cannot encode argument 0 `pair` (uint256[2]) of g(uint256[2],(uint256,address),(uint64,bool)[]): has 1 element, uint256[2] needs 2' },
    { name: 'not an array', args: [5, [1, WHO], []], option: 'args[0]', message: 'cannot encode argument 0 `pair` (uint256[2]) of g(uint256[2],(uint256,address),(uint64,bool)[]): 5 is not an array' },
    { name: 'a tuple component by name', args: [[1, 2], { amount: 1, to: 'nobody' }, []], option: 'args[1].to', message: 'cannot encode argument 1 `order` (tuple(uint256,address)) of g(uint256[2],(uint256,address),(uint64,bool)[]), at .to (address): "nobody" is not an address (0x and 40 hex digits; ENS names are not resolved)' },
    { name: 'a tuple given as a short array', args: [[1, 2], [1], []], option: 'args[1]', message: 'cannot encode argument 1 `order` (tuple(uint256,address)) of g(uint256[2],(uint256,address),(uint64,bool)[]): has 1 component, tuple(uint256,address) needs 2' },
    { name: 'deep: a component of an element', args: [[1, 2], [1, WHO], [[1, true], [-5, false]]], option: 'args[2][1][0]', message: 'cannot encode argument 2 `list` (tuple(uint64,bool)[]) of g(uint256[2],(uint256,address),(uint64,bool)[]), at [1][0] (uint64): -5 is out of range for uint64 (0 to 18446744073709551615)' },
  ])('inside arrays and tuples: $name', ({ args, option, message }) => {
    expect(problem(() => wide.encode('g', args))).toEqual({ option, message: `Invalid option \`${option}\`: ${message}` })
  })

  it('an unnamed parameter is named by its position only', () => {
    expect(problem(() => wide.encode('h', [1, 2n ** 256n]))).toMatchInlineSnapshot(`
      {
        "message": "Invalid option \`args[1]\`: cannot encode argument 1 (uint256) of h(uint256,uint256): 115792089237316195423570985008687907853269984665640564039457584007913129639936 is out of range for uint256 (0 to 2^256-1)",
        "option": "args[1]",
      }
    `)
  })

  it('the wrong number of arguments: how many it takes, and which', () => {
    expect(problem(() => counter.encode('failCustom', [])).message).toMatchInlineSnapshot(`"Invalid option \`args\`: failCustom(uint256) takes 1 argument (uint256 code), got 0"`)
    expect(problem(() => wide.encode('h', [1, 2, 3])).message).toMatchInlineSnapshot(`"Invalid option \`args\`: h(uint256,uint256) takes 2 arguments (uint256, uint256), got 3"`)
    expect(() => counter.encode('failCustom', 'x' as unknown as unknown[])).toThrow('Invalid option `args`: expected an array, got x')
  })
})
