import { AbiCoder } from 'ethers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createContract, isResilientRpcError, type Contract, type ReadOptions } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { start } from '../support/async.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// createContract through a pool with a scripted fetch and fake timers (heartbeats off: endpoints are
// trusted from the start and the pool knows no reference head, so depth comes from eth_blockNumber).

const coder = AbiCoder.defaultAbiCoder()
const ADDRESS = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
const CHECKSUMMED = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const HASH = '0x8f4a0b1e4c3d2a1b0f9e8d7c6b5a49382716051423324150ab9cd8ef0a1b2c3d'
const CALLER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const VALUE_SELECTOR = '0x3fa4f245' // value()
const word = (n: bigint | number) => BigInt(n).toString(16).padStart(64, '0')
const ERROR_NOPE = `0x08c379a0${coder.encode(['string'], ['counter: nope']).slice(2)}`
const UNAUTHORIZED = `0xda472023${coder.encode(['address', 'uint256'], [CALLER, 7]).slice(2)}`
const PANIC_DIV_ZERO = `0x4e487b71${word(0x12)}`

const { fake, makePool } = useFakePool({ endpoints: ['http://a'], random: () => 0, heartbeat: false })

/** A node at head 100 whose eth_call answers with `call`, with `code` at every address. */
function node(call: (c: FetchCall) => Behaviour, code = '0x6080'): (c: FetchCall) => Behaviour {
  return (c) => {
    if (c.method === 'eth_blockNumber') return { kind: 'ok', result: '0x64' }
    if (c.method === 'eth_getBlockByNumber') return { kind: 'ok', result: { number: '0x50', hash: HASH } }
    if (c.method === 'eth_getCode') return { kind: 'ok', result: code }
    if (c.method === 'eth_call') return call(c)
    return { kind: 'rpcError', code: -32601, message: `the method ${c.method} does not exist/is not available` }
  }
}

const calls = (method: string) => fake.calls.filter((c) => c.method === method)

async function rejection(promise: Promise<unknown>) {
  return promise.then(
    () => expect.unreachable('resolved'),
    (e: unknown) => e as Error & Record<string, unknown>,
  )
}

function thrown(fn: () => unknown) {
  try {
    fn()
  } catch (e) {
    return e as Error & Record<string, unknown>
  }
  return expect.unreachable('did not throw')
}

describe('createContract: ABI and address checks', () => {
  it('checksums the address and exposes the parsed interface', () => {
    const c = createContract(makePool(), ADDRESS, counterAbi)
    expect(c.address).toBe(CHECKSUMMED)
    expect(c.interface.getFunction('value')?.selector).toBe(VALUE_SELECTOR)
  })

  it.each([
    { name: 'JSON objects', abi: counterAbi },
    { name: 'a JSON string', abi: JSON.stringify(counterAbi) },
    { name: 'human-readable strings', abi: ['function value() view returns (uint256)', 'error Unauthorized(address caller, uint256 code)'] },
    { name: 'a mix of both', abi: [counterAbi[counterAbi.length - 1]!, 'error Unauthorized(address caller, uint256 code)'] },
  ])('accepts $name', ({ abi }) => {
    const c = createContract(makePool(), CHECKSUMMED, abi)
    expect(c.encode('value')).toBe(VALUE_SELECTOR)
    expect(c.interface.getError('Unauthorized')?.selector).toBe('0xda472023')
  })

  it.each([
    { name: 'a string that is not JSON', abi: 'function value() view returns (uint256)', expected: 'Invalid ABI: not valid JSON' },
    { name: 'a JSON object', abi: '{"type":"function"}', expected: 'Invalid ABI: expected an array of fragments (JSON objects or human-readable strings)' },
    { name: 'an object', abi: { type: 'function', name: 'value' }, expected: 'Invalid ABI: expected an array of fragments (JSON objects or human-readable strings)' },
    { name: 'a misspelt type', abi: [counterAbi[1], { type: 'funtion', name: 'value', inputs: [], outputs: [] }], expected: 'Invalid ABI: entry 1: unsupported type: funtion' },
    { name: 'a function without a name', abi: [{ type: 'function', inputs: [], outputs: [] }], expected: 'Invalid ABI: entry 0: invalid identifier' },
    { name: 'a number', abi: ['function value() view returns (uint256)', 'function owner() view returns (address)', 42], expected: 'Invalid ABI: entry 2: unsupported frgament object' },
    // Fine one by one, clashing as a whole (found by fuzzing: ethers' Interface threw a bare TypeError).
    { name: 'two fallback functions', abi: [{ type: 'fallback' }, { type: 'fallback' }], expected: 'Invalid ABI: conflicting fallback fragments' },
  ])('rejects $name as INVALID_ABI', ({ abi, expected }) => {
    const error = thrown(() => createContract(makePool(), ADDRESS, abi as never))
    expect(isResilientRpcError(error, 'INVALID_ABI')).toBe(true)
    expect(error.message).toBe(expected)
  })

  it('names the entry of a human-readable fragment that does not parse — which ethers alone would drop with a warning', () => {
    const abi = ['function value() view returns (uint256)', 'function owner() view returns (address', 'function set(uint256)']
    const error = thrown(() => createContract(makePool(), ADDRESS, abi))
    expect(error).toMatchObject({ code: 'INVALID_ABI' })
    expect(error.message).toMatch(/^Invalid ABI: entry 1: /)
    expect(error.cause).toBeInstanceOf(Error)
  })

  it.each([
    { name: 'not an address', address: 'counter' },
    { name: 'too short', address: '0x5fbdb2315678afecb367f032d93f642f64180a' },
    { name: 'a wrong checksum', address: '0x5FbDB2315678afecb367f032d93F642f64180aA3' },
    { name: 'the empty string', address: '' },
  ])('rejects an address that is $name as INVALID_OPTION', ({ address }) => {
    const error = thrown(() => createContract(makePool(), address, counterAbi))
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'address' })
    expect(error.message).toBe(`Invalid option \`address\`: expected an address, got ${address}`)
  })
})

describe('encode', () => {
  let c: Contract
  beforeEach(() => {
    c = createContract(makePool(), ADDRESS, counterAbi)
  })

  it.each([
    { name: 'no arguments', fn: 'value', args: undefined, expected: VALUE_SELECTOR },
    { name: 'a uint256', fn: 'set', args: [42n], expected: `0x60fe47b1${word(42)}` },
    { name: 'a number for a uint256', fn: 'set', args: [42], expected: `0x60fe47b1${word(42)}` },
    { name: 'by signature', fn: 'set(uint256)', args: [1n], expected: `0x60fe47b1${word(1)}` },
    { name: 'by selector', fn: '0x60fe47b1', args: [1n], expected: `0x60fe47b1${word(1)}` },
  ])('$name', ({ fn, args, expected }) => {
    expect(c.encode(fn, args)).toBe(expected)
  })

  it('an unknown function → INVALID_OPTION', () => {
    const error = thrown(() => c.encode('balanceOf', [CALLER]))
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'functionName' })
    expect(error.message).toMatchInlineSnapshot(`"Invalid option \`functionName\`: the ABI has no function "balanceOf""`)
  })

  it.each([
    { name: 'a string for a uint256', args: ['forty-two'], option: 'args[0]', problem: 'cannot encode argument 0 `next` (uint256) of set(uint256): "forty-two" is not a number' },
    { name: 'a negative uint256', args: [-1n], option: 'args[0]', problem: 'cannot encode argument 0 `next` (uint256) of set(uint256): -1 is out of range for uint256 (0 to 2^256-1)' },
    { name: 'too few arguments', args: [], option: 'args', problem: 'set(uint256) takes 1 argument (uint256 next), got 0' },
    { name: 'too many arguments', args: [1n, 2n], option: 'args', problem: 'set(uint256) takes 1 argument (uint256 next), got 2' },
  ])('arguments that do not encode ($name) → INVALID_OPTION naming the function and the argument', ({ args, option, problem }) => {
    const error = thrown(() => c.encode('set', args))
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option, shortMessage: `Invalid option \`${option}\`: ${problem}` })
    expect(error.cause).toBeInstanceOf(Error)
  })
})

describe('read', () => {
  it('calls eth_call at latest and decodes a single output to its value', async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: `0x${word(42)}` })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    await expect(c.read<bigint>('value')).resolves.toBe(42n)
    expect(fake.calls.map((x) => [x.method, x.params])).toEqual([['eth_call', [{ to: CHECKSUMMED, data: VALUE_SELECTOR }, 'latest']]])
  })

  it('decodes an address output checksummed', async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: `0x${CALLER.slice(2).toLowerCase().padStart(64, '0')}` })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    await expect(c.read('owner')).resolves.toBe(CALLER)
  })

  it('decodes several outputs to an array, in order', async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: `0x${word(7)}${CALLER.slice(2).toLowerCase().padStart(64, '0')}${word(1)}` })))
    const c = createContract(makePool(), ADDRESS, ['function state() view returns (uint256 value, address owner, bool live)'])
    const result = await c.read('state')
    expect(Array.isArray(result)).toBe(true)
    expect(result).toStrictEqual([7n, CALLER, true])
  })

  it('encodes the arguments into the call data', async () => {
    fake.set('a', node(() => ({ kind: 'rpcError', code: 3, message: 'execution reverted', data: PANIC_DIV_ZERO })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    await rejection(c.read('failPanic', [0n]))
    expect(calls('eth_call')[0]!.params[0]).toEqual({ to: CHECKSUMMED, data: `0x74df253a${word(0)}` })
  })

  it.each<{ name: string; options: ReadOptions; block: unknown; asked: string[] }>([
    { name: 'no block options → latest', options: {}, block: 'latest', asked: [] },
    { name: 'a block number → pinned hex', options: { blockTag: 90 }, block: '0x5a', asked: [] },
    { name: 'a bigint → pinned hex', options: { blockTag: 90n }, block: '0x5a', asked: [] },
    { name: 'a tag', options: { blockTag: 'safe' }, block: 'safe', asked: [] },
    { name: 'a block hash → EIP-1898 { blockHash }', options: { blockTag: HASH }, block: { blockHash: HASH }, asked: [] },
    { name: 'confirmations → head − confirmations', options: { confirmations: 3 }, block: '0x61', asked: ['eth_blockNumber'] },
    { name: 'finality → that block, pinned', options: { finality: 'finalized' }, block: '0x50', asked: ['eth_getBlockByNumber'] },
  ])('$name', async ({ options, block, asked }) => {
    fake.set('a', node(() => ({ kind: 'ok', result: `0x${word(1)}` })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    await expect(c.read('value', [], options)).resolves.toBe(1n)
    expect(fake.calls.map((x) => x.method)).toEqual([...asked, 'eth_call'])
    expect(calls('eth_call')[0]!.params).toEqual([{ to: CHECKSUMMED, data: VALUE_SELECTOR }, block])
  })

  it('conflicting block options → INVALID_OPTION, nothing sent', async () => {
    const c = createContract(makePool(), ADDRESS, counterAbi)
    await expect(c.read('value', [], { blockTag: 'latest', confirmations: 2 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'blockTag' })
    expect(fake.calls).toHaveLength(0)
  })
})

describe('read: reverts', () => {
  it.each([
    {
      name: 'Error(string)',
      fn: 'failString',
      args: [],
      data: ERROR_NOPE,
      revert: { errorName: 'Error', signature: 'Error(string)', args: ['counter: nope'], reason: 'counter: nope' },
      message: 'failString reverted: "counter: nope"',
    },
    {
      name: 'a custom error from the ABI',
      fn: 'failCustom',
      args: [7n],
      data: UNAUTHORIZED,
      revert: { errorName: 'Unauthorized', signature: 'Unauthorized(address,uint256)', args: [CALLER, 7n] },
      message: `failCustom reverted: Unauthorized(${CALLER}, 7)`,
    },
    {
      name: 'Panic(0x12)',
      fn: 'failPanic',
      args: [0n],
      data: PANIC_DIV_ZERO,
      revert: { errorName: 'Panic', signature: 'Panic(uint256)', args: [0x12n], panic: { code: 0x12n, name: 'division or modulo by zero' } },
      message: 'failPanic reverted: Panic(0x12): division or modulo by zero',
    },
    { name: 'an unknown error', fn: 'value', args: [], data: `0xdeadbeef${word(1)}`, revert: undefined, message: 'value reverted: unknown error data 0xdeadbeef' },
    { name: 'no data', fn: 'value', args: [], data: undefined, revert: undefined, message: 'value reverted: without data' },
  ])('$name → CALL_REVERTED, decoded, with the RPC error as cause, sent once', async ({ fn, args, data, revert, message }) => {
    for (const h of ['a', 'b', 'c']) fake.set(h, node(() => ({ kind: 'rpcError', code: 3, message: 'execution reverted', data })))
    const c = createContract(makePool({}, ['http://a', 'http://b', 'http://c']), ADDRESS, counterAbi)
    const error = await rejection(c.read(fn, args))
    expect(isResilientRpcError(error, 'CALL_REVERTED')).toBe(true)
    expect(error).toMatchObject({ functionName: fn, data })
    expect(error.revert).toStrictEqual(revert)
    expect(error.shortMessage).toBe(message)
    expect(isResilientRpcError(error.cause, 'RPC_ERROR')).toBe(true)
    expect(error.cause).toMatchObject({ rpcCode: 3, data })
    expect(error.attempts).toHaveLength(1)
    // A revert is the contract's answer: never retried, never failed over.
    expect(calls('eth_call')).toHaveLength(1)
  })

  it('a reason with control characters is printable in the message and `reason`, exact in `args[0]`', async () => {
    const raw = 'no\u0000pe\n\u202e!'
    const data = `0x08c379a0${coder.encode(['string'], [raw]).slice(2)}`
    // anvil's own text for a custom error quotes its data as raw bytes.
    fake.set('a', node(() => ({ kind: 'rpcError', code: 3, message: `execution reverted: custom error 0xda472023: \u0000\u0000*`, data })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const error = await rejection(c.read('failString'))
    expect(error.revert).toMatchObject({ reason: 'no\\x00pe\\n\\u202e!', args: [raw] })
    expect(error.message).toMatchInlineSnapshot(`
      "failString reverted: "no\\x00pe\\n\\u202e!"
      Attempts:
        1. http://a:80#0 (0 ms): [RPC_ERROR] RPC error 3: execution reverted: custom error 0xda472023: \\x00\\x00*"
    `)
    expect(error.message).not.toMatch(/[\u0000\u202e]/)
    expect(error.cause).toMatchObject({ rpcMessage: 'execution reverted: custom error 0xda472023: \u0000\u0000*' })
  })

  it('a revert reported with a generic code, the data nested one level down', async () => {
    fake.set('a', node(() => ({ kind: 'rpcError', code: -32000, message: 'execution reverted: counter: nope', data: { data: ERROR_NOPE } })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const error = await rejection(c.read('failString'))
    expect(error).toMatchObject({ code: 'CALL_REVERTED', data: ERROR_NOPE, revert: { reason: 'counter: nope' } })
    expect(error.message).toMatchInlineSnapshot(`
      "failString reverted: "counter: nope"
      Attempts:
        1. http://a:80#0 (0 ms): [RPC_ERROR] RPC error -32000: execution reverted: counter: nope"
    `)
  })

  it('an RPC error that is not a revert passes through unchanged', async () => {
    fake.set('a', node(() => ({ kind: 'rpcError', code: -32602, message: 'invalid argument 1: hex number with leading zero digits' })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const error = await rejection(c.read('value'))
    expect(error).toMatchObject({ code: 'RPC_ERROR', rpcCode: -32602 })
  })
})

describe('read: no data, no code', () => {
  it("'0x' and no code at the block read (latest) → NO_CODE naming the address and block", async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: '0x' }), '0x'))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const error = await rejection(c.read('value'))
    expect(isResilientRpcError(error, 'NO_CODE')).toBe(true)
    expect(error).toMatchObject({ functionName: 'value', address: CHECKSUMMED, block: 'latest' })
    expect(error.message).toMatchInlineSnapshot(`"value: no contract code at 0x5FbDB2315678afecb367f032d93F642f64180aa3 in block latest"`)
    expect(fake.calls.map((x) => [x.method, x.params])).toEqual([
      ['eth_call', [{ to: CHECKSUMMED, data: VALUE_SELECTOR }, 'latest']],
      ['eth_getCode', [CHECKSUMMED, 'latest']],
    ])
  })

  it('at depth, the code is looked for at the block the call read, and the error names it', async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: '0x' }), '0x'))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const error = await rejection(c.read('value', [], { confirmations: 3 }))
    expect(error).toMatchObject({ code: 'NO_CODE', address: CHECKSUMMED, block: '0x61' })
    expect(error.shortMessage).toBe(`value: no contract code at ${CHECKSUMMED} in block 97`)
    expect(calls('eth_getCode')[0]!.params).toEqual([CHECKSUMMED, '0x61'])
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'NO_CODE', address: CHECKSUMMED, block: '0x61' })
  })

  it('at a block hash, the code is looked for at that hash', async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: '0x' }), '0x'))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    expect(await rejection(c.read('value', [], { blockTag: HASH }))).toMatchObject({ code: 'NO_CODE', block: HASH })
    expect(calls('eth_getCode')[0]!.params).toEqual([CHECKSUMMED, { blockHash: HASH }])
  })

  it('a function without outputs: no data is its answer, nothing more is asked', async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: '0x' }), '0x'))
    const c = createContract(makePool(), ADDRESS, ['function poke() view'])
    await expect(c.read('poke')).resolves.toEqual([])
    expect(calls('eth_getCode')).toHaveLength(0)
  })
})

describe('read: results that do not fit the ABI', () => {
  it("'0x' where there is code → INVALID_ABI: the code there is not what the ABI describes", async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: '0x' })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const error = await rejection(c.read('value'))
    expect(isResilientRpcError(error, 'INVALID_ABI')).toBe(true)
    expect(error.message).toMatchInlineSnapshot(`"Invalid ABI: value(): the call returned no data, though there is code at the address (not the contract this ABI describes?)"`)
    expect(calls('eth_call')).toHaveLength(1)
    expect(calls('eth_getCode')).toHaveLength(1)
  })

  it('data too short for the outputs → INVALID_ABI', async () => {
    fake.set('a', node(() => ({ kind: 'ok', result: '0x1234' })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const error = await rejection(c.read('value'))
    expect(error.message).toMatchInlineSnapshot(`"Invalid ABI: value(): the result does not match the ABI"`)
    expect(calls('eth_getCode')).toHaveLength(0)
  })
})

describe('read: bad calls fail before anything is sent', () => {
  it.each([
    { name: 'an unknown function', fn: 'balanceOf', args: [CALLER], option: 'functionName' },
    { name: 'an event name', fn: 'Ping', args: [], option: 'functionName' },
    { name: 'a custom error name', fn: 'Unauthorized', args: [], option: 'functionName' },
    { name: 'arguments that do not encode', fn: 'failCustom', args: ['seven'], option: 'args[0]' },
    { name: 'a missing argument', fn: 'failCustom', args: [], option: 'args' },
  ])('$name → INVALID_OPTION', async ({ fn, args, option }) => {
    fake.set('a', node(() => ({ kind: 'ok', result: `0x${word(1)}` })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    await expect(c.read(fn, args, { confirmations: 2 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option })
    expect(fake.calls).toHaveLength(0)
  })
})

describe('read: deadline and abort', () => {
  it('rejects with ABORTED when the caller aborts, and aborts the fetch', async () => {
    fake.set('a', node(() => ({ kind: 'hang' })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const controller = new AbortController()
    const pending = rejection(c.read('value', [], { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(10)
    controller.abort(new Error('gone'))
    expect(await pending).toMatchObject({ code: 'ABORTED' })
    expect(calls('eth_call')[0]!.signal.aborted).toBe(true)
  })

  it('rejects with TIMEOUT at its timeout', async () => {
    fake.set('a', node(() => ({ kind: 'hang' })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    let settled = false
    const pending = rejection(c.read('value', [], { timeout: 1_000 })).finally(() => (settled = true))
    await vi.advanceTimersByTimeAsync(999)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await pending).toMatchObject({ code: 'TIMEOUT', scope: 'request', timeout: 1_000 })
  })
})

describe('review fixes', () => {
  it.each([
    { name: 'confirmations', options: { confirmations: 2 }, slow: 'eth_blockNumber', result: '0x64' as unknown },
    { name: 'finality', options: { finality: 'finalized' as const }, slow: 'eth_getBlockByNumber', result: { number: '0x50', hash: HASH } },
  ])('`timeout` bounds the whole read, block resolution ($name) included', async ({ options, slow, result }) => {
    fake.set('a', (c) => (c.method === slow ? { kind: 'ok', delay: 900, result } : { kind: 'hang' }))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    const { outcome, done } = start(c.read('value', [], { ...options, timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome.settled).toBe(true)
    await done
    expect(outcome.error).toMatchObject({ code: 'TIMEOUT' })
  })

  it.each([
    { name: 'an overloaded name', abi: ['function f(uint256) view returns (uint256)', 'function f(address) view returns (uint256)'], fn: 'f', args: [1n] },
    { name: 'a malformed signature', abi: counterAbi, fn: 'value(', args: [] },
  ])('$name → INVALID_OPTION, not an ethers TypeError', async ({ abi, fn, args }) => {
    const c = createContract(makePool(), ADDRESS, abi as never)
    expect(() => c.encode(fn, args)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'functionName' }))
    await expect(c.read(fn, args)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'functionName' })
    expect(fake.calls).toHaveLength(0)
  })

  it('an invalid-params error carrying a non-hex data string is not a revert', async () => {
    fake.set('a', node(() => ({ kind: 'rpcError', code: -32602, message: 'Invalid params', data: 'Incorrect parameters count, expected: 2, actual: 3' })))
    const c = createContract(makePool(), ADDRESS, counterAbi)
    await expect(c.read('value')).rejects.toMatchObject({ code: 'RPC_ERROR', rpcCode: -32602 })
  })
})
