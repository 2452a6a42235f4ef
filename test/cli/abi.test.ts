import { Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import { coerceArgs, loadAbi, pickFunction } from '../../src/cli/abi.js'

const files = (map: Record<string, string>) => async (path: string) => {
  if (path in map) return map[path]!
  throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
}

describe('CLI ABI', () => {
  it('reads signatures, with or without `function`, several separated by `;`', async () => {
    expect(await loadAbi('balanceOf(address) view returns (uint256); function decimals() view returns (uint8)', files({}))).toEqual([
      'function balanceOf(address) view returns (uint256)',
      'function decimals() view returns (uint8)',
    ])
  })

  it('reads an ABI file: a bare array or a build artifact', async () => {
    const abi = [{ type: 'function', name: 'value', inputs: [], outputs: [{ type: 'uint256' }], stateMutability: 'view' }]
    const read = files({ 'abi.json': JSON.stringify(abi), 'Counter.json': JSON.stringify({ contractName: 'Counter', abi }) })
    expect(await loadAbi('abi.json', read)).toEqual(abi)
    expect(await loadAbi('Counter.json', read)).toEqual(abi)
  })

  it.each([
    ['nope.json', {}, 'cannot read ABI file "nope.json" (ENOENT); for a signature, write e.g. "function value() view returns (uint256)"'],
    ['bad.json', { 'bad.json': '[{' }, /^ABI file "bad.json" is not valid JSON/],
    ['obj.json', { 'obj.json': '{"bytecode":"0x"}' }, 'ABI file "obj.json" must hold a JSON array or an object with an "abi" array'],
  ])('rejects %s', async (spec, map, message) => {
    await expect(loadAbi(spec, files(map))).rejects.toThrow(message)
  })

  it('picks the only function when --fn is not given, and asks for it otherwise', () => {
    expect(pickFunction(['function value() view returns (uint256)', 'event Ping(uint256)'], undefined)).toBe('value()')
    expect(pickFunction(['function a()', 'function b()'], 'b')).toBe('b')
    expect(() => pickFunction(['function a()', 'function b(uint256)'], undefined)).toThrow('read needs --fn NAME: the ABI has 2 functions: a(), b(uint256)')
    expect(() => pickFunction(['event Ping(uint256)', 'error Nope()'], undefined)).toThrow('the ABI has no function to read (only events, errors or entries that do not parse)')
  })

  it.each([
    ['functon value()', '"functon" is not a keyword (did you mean "function"?): a signature starts with function, error, event, constructor, fallback, receive, struct or the function\'s name'],
    ['value()(uint256', 'unbalanced parentheses (2 "(" and 1 ")")'],
    ['function value( view', 'unbalanced parentheses (1 "(" and 0 ")")'],
    ['value()(uint256)', 'the output types need "returns" before them'],
    ['value() view (uint256)', 'the output types need "returns" before them'],
    ['value() view returns uint256', 'the output types after "returns" go in parentheses'],
    ['value(uint257)', 'invalid numeric width'],
    ['view value()', '"view" is not a keyword: a signature starts with function, error, event, constructor, fallback, receive, struct or the function\'s name'],
  ])('a signature that does not parse says why: %s', async (spec, problem) => {
    await expect(loadAbi(spec, files({}))).rejects.toThrow(`--abi: signature ${JSON.stringify(spec)} does not parse: ${problem}; write e.g. "function value() view returns (uint256)"`)
  })

  it('turns argument strings into what each input type encodes from', () => {
    const f = new Interface(['function f(uint256 n, bool flag, address who, uint256[] list, (uint8 a, string b) pair, bytes32 tag)']).getFunction('f')!
    const args = coerceArgs(f.inputs, ['42', 'true', '0x0000000000000000000000000000000000000001', '["1","2"]', '[7,"x"]', `0x${'ab'.repeat(32)}`])
    expect(args).toEqual(['42', true, '0x0000000000000000000000000000000000000001', ['1', '2'], [7, 'x'], `0x${'ab'.repeat(32)}`])
    expect(() => coerceArgs(f.inputs, ['1'])).toThrow('expected 6 argument(s) (uint256 n, bool flag, address who, uint256[] list, (uint8 a, string b) pair, bytes32 tag), got 1')
    expect(() => coerceArgs(f.inputs.slice(1, 2), ['yes'])).toThrow('argument 1 (bool flag) must be true or false, got "yes"')
    expect(() => coerceArgs(f.inputs.slice(3, 4), ['1,2'])).toThrow(`argument 1 (uint256[] list) must be JSON, e.g. '["1","2"]'`)
  })
})
