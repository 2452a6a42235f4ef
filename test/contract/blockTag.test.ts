import { describe, expect, it, vi } from 'vitest'
import { blockParameter, resolveBlock, type BlockOptions } from '../../src/contract/blockTag.js'
import { AbortedError, PoolDestroyedError, TimeoutError } from '../../src/errors/request.js'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { RpcResponseError } from '../../src/errors/endpoint.js'
import type { Pool } from '../../src/pool/pool.js'

// resolveBlock against a stand-in pool: only freshHead() and request() are used, and every call it
// makes is recorded, so the tests also show what was (not) asked of the chain.

const HASH = '0x8f4a0b1e4c3d2a1b0f9e8d7c6b5a49382716051423324150ab9cd8ef0a1b2c3d'

type Answer = (method: string, params: readonly unknown[]) => unknown

/** `head`: what `pool.freshHead()` resolves with (or a function that throws instead). */
function fakePool({ head = 100n, answer = () => '0x64' }: { head?: bigint | (() => bigint); answer?: Answer } = {}) {
  const request = vi.fn(async (method: string, params: readonly unknown[] = [], _options?: { signal?: AbortSignal; timeout?: number }) => answer(method, params))
  const freshHead = vi.fn(async (_options?: { signal?: AbortSignal; timeout?: number }) => (typeof head === 'function' ? head() : head))
  // The reference head may be blocks behind the chain: confirmation depth never counts from it.
  const referenceHead = vi.fn(() => 1n)
  const pool = { referenceHead, freshHead, request } as unknown as Pool
  return { pool, request, freshHead, referenceHead }
}

async function invalidOption(promise: Promise<unknown>) {
  const error = await promise.then(
    () => expect.unreachable('resolved'),
    (e: unknown) => e,
  )
  expect(isResilientRpcError(error, 'INVALID_OPTION')).toBe(true)
  return error as Error & { option: string; shortMessage: string }
}

describe('resolveBlock: fixed blocks', () => {
  it.each([
    { name: 'no options', options: undefined, expected: 'latest' },
    { name: 'empty options', options: {}, expected: 'latest' },
    { name: 'a number', options: { blockTag: 100 }, expected: '0x64' },
    { name: 'block 0', options: { blockTag: 0 }, expected: '0x0' },
    { name: 'a bigint', options: { blockTag: 255n }, expected: '0xff' },
    { name: 'a bigint beyond 2^53', options: { blockTag: 2n ** 60n }, expected: '0x1000000000000000' },
    { name: 'a hex number', options: { blockTag: '0x1b4' }, expected: '0x1b4' },
    { name: 'a block hash', options: { blockTag: HASH }, expected: HASH },
    ...(['latest', 'safe', 'finalized', 'pending', 'earliest'] as const).map((tag) => ({ name: `'${tag}'`, options: { blockTag: tag }, expected: tag })),
  ])('$name → $expected, without asking the chain', async ({ options, expected }) => {
    const { pool, request } = fakePool({ head: 1_000n })
    await expect(resolveBlock(pool, options as BlockOptions)).resolves.toBe(expected)
    expect(request).not.toHaveBeenCalled()
  })

  it.each([
    { name: 'a negative number', blockTag: -1 },
    { name: 'a fraction', blockTag: 1.5 },
    { name: 'NaN', blockTag: Number.NaN },
    { name: 'an unsafe integer', blockTag: 2 ** 53 },
    { name: 'a negative bigint', blockTag: -1n },
    { name: 'an unknown tag', blockTag: 'newest' },
    { name: 'a tag in the wrong case', blockTag: 'Latest' },
    { name: "'0x' alone", blockTag: '0x' },
    { name: 'a number in decimal', blockTag: '100' },
    { name: 'non-hex digits', blockTag: '0xzz' },
  ])('rejects $name as INVALID_OPTION', async ({ blockTag }) => {
    const { pool, request } = fakePool()
    const error = await invalidOption(resolveBlock(pool, { blockTag: blockTag as BlockOptions['blockTag'] }))
    expect(error.option).toBe('blockTag')
    expect(request).not.toHaveBeenCalled()
  })

  it('names the bad value in the message', async () => {
    const { pool } = fakePool()
    const error = await invalidOption(resolveBlock(pool, { blockTag: 'newest' as BlockOptions['blockTag'] }))
    expect(error.message).toMatchInlineSnapshot(`"Invalid option \`blockTag\`: expected a block number, hash or tag, got "newest""`)
  })
})

describe('resolveBlock: confirmations', () => {
  it.each([
    { confirmations: 0, head: 100n, expected: '0x64' },
    { confirmations: 1, head: 100n, expected: '0x63' },
    { confirmations: 12n, head: 100n, expected: '0x58' },
    { confirmations: 100, head: 100n, expected: '0x0' },
    { confirmations: 101, head: 100n, expected: '0x0' },
    { confirmations: 10n ** 30n, head: 100n, expected: '0x0' },
  ])('$confirmations below a fresh head of $head → $expected, with no request of its own', async ({ confirmations, head, expected }) => {
    const { pool, request, freshHead } = fakePool({ head })
    await expect(resolveBlock(pool, { confirmations })).resolves.toBe(expected)
    expect(freshHead).toHaveBeenCalledTimes(1)
    expect(request).not.toHaveBeenCalled()
  })

  it('counts from pool.freshHead(), never the reference head, passing signal and timeout on', async () => {
    const { pool, freshHead, referenceHead } = fakePool({ head: 200n })
    const signal = new AbortController().signal
    await expect(resolveBlock(pool, { confirmations: 3, signal, timeout: 1_234 })).resolves.toBe('0xc5')
    expect(freshHead).toHaveBeenCalledWith({ signal, timeout: 1_234 })
    expect(referenceHead).not.toHaveBeenCalled()
  })

  it('clamps at block 0 on a young chain', async () => {
    const { pool } = fakePool({ head: 2n })
    await expect(resolveBlock(pool, { confirmations: 5 })).resolves.toBe('0x0')
  })

  it('lets an error of the head lookup through unchanged', async () => {
    const failure = new RpcResponseError({ code: -32000, message: 'boom' })
    const { pool } = fakePool({
      head: () => {
        throw failure
      },
    })
    await expect(resolveBlock(pool, { confirmations: 1 })).rejects.toBe(failure)
  })

  it.each([
    { name: 'negative', confirmations: -1 },
    { name: 'a fraction', confirmations: 0.5 },
    { name: 'NaN', confirmations: Number.NaN },
    { name: 'Infinity', confirmations: Number.POSITIVE_INFINITY },
    { name: 'a negative bigint', confirmations: -3n },
  ])('rejects $name confirmations before asking anything', async ({ confirmations }) => {
    const { pool, request, freshHead } = fakePool()
    const error = await invalidOption(resolveBlock(pool, { confirmations }))
    expect(error.option).toBe('confirmations')
    expect(request).not.toHaveBeenCalled()
    expect(freshHead).not.toHaveBeenCalled()
  })

  it('says what it expected', async () => {
    const { pool } = fakePool({ head: 10n })
    const error = await invalidOption(resolveBlock(pool, { confirmations: -2 }))
    expect(error.message).toMatchInlineSnapshot(`"Invalid option \`confirmations\`: expected an integer >= 0, got -2"`)
  })
})

describe('resolveBlock: finality', () => {
  it.each(['safe', 'finalized'] as const)("pins '%s' to the number of that block", async (finality) => {
    const { pool, request } = fakePool({
      head: 1_000n,
      answer: (method, params) => (method === 'eth_getBlockByNumber' && params[0] === finality ? { number: finality === 'safe' ? '0x3e0' : '0x3c0', hash: HASH } : null),
    })
    const signal = new AbortController().signal
    await expect(resolveBlock(pool, { finality, signal, timeout: 900 })).resolves.toBe(finality === 'safe' ? '0x3e0' : '0x3c0')
    expect(request).toHaveBeenCalledTimes(1)
    expect(request).toHaveBeenCalledWith('eth_getBlockByNumber', [finality, false], { signal, timeout: 900 })
  })

  it.each([
    { name: 'a null block (no finalized block yet)', block: null },
    { name: 'a block without a number', block: { hash: HASH } },
  ])('$name → INVALID_OPTION', async ({ block }) => {
    const { pool } = fakePool({ answer: () => block })
    const error = await invalidOption(resolveBlock(pool, { finality: 'finalized' }))
    expect(error.option).toBe('finality')
    expect(error.message).toBe("Invalid option `finality`: the chain has no 'finalized' block yet")
  })

  it('an RPC error (a chain without the tag) → INVALID_OPTION, with the RPC error as cause', async () => {
    const failure = new RpcResponseError({ code: -32602, message: "invalid argument 0: hex string without 0x prefix" })
    const { pool } = fakePool({
      answer: () => {
        throw failure
      },
    })
    const error = await invalidOption(resolveBlock(pool, { finality: 'safe' }))
    expect(error.cause).toBe(failure)
    expect(error.message).toMatchInlineSnapshot(`"Invalid option \`finality\`: the chain did not answer the 'safe' block tag"`)
  })

  it('rejects a finality other than safe or finalized without asking', async () => {
    const { pool, request } = fakePool()
    const error = await invalidOption(resolveBlock(pool, { finality: 'latest' as BlockOptions['finality'] }))
    expect(error.option).toBe('finality')
    expect(request).not.toHaveBeenCalled()
  })
})

describe('resolveBlock: conflicting options', () => {
  it.each([
    { name: 'blockTag + confirmations', options: { blockTag: 'latest', confirmations: 1 } },
    { name: 'blockTag + finality', options: { blockTag: 5n, finality: 'safe' } },
    { name: 'confirmations + finality', options: { confirmations: 0, finality: 'finalized' } },
    { name: 'all three', options: { blockTag: HASH, confirmations: 2, finality: 'safe' } },
  ])('$name → INVALID_OPTION, without a request', async ({ options }) => {
    const { pool, request } = fakePool({ head: 100n })
    const error = await invalidOption(resolveBlock(pool, options as BlockOptions))
    expect(error.message).toBe('Invalid option `blockTag`: give at most one of `blockTag`, `confirmations` and `finality`')
    expect(request).not.toHaveBeenCalled()
  })
})

describe('blockParameter', () => {
  it.each([
    { block: HASH, expected: { blockHash: HASH } },
    { block: HASH.toUpperCase().replace('0X', '0x'), expected: { blockHash: HASH.toUpperCase().replace('0X', '0x') } },
    { block: 'latest', expected: 'latest' },
    { block: 'finalized', expected: 'finalized' },
    { block: '0x64', expected: '0x64' },
    // One nibble short of a hash: a (huge) number, not a hash.
    { block: HASH.slice(0, -1), expected: HASH.slice(0, -1) },
  ])('$block → $expected', ({ block, expected }) => {
    expect(blockParameter(block)).toStrictEqual(expected)
  })
})

describe('errors that are not about the tag', () => {
  it.each([
    { name: 'a caller abort', error: new AbortedError({ cause: new Error('gone') }) },
    { name: 'the deadline', error: new TimeoutError('request', 1_000) },
    { name: 'destroy()', error: new PoolDestroyedError() },
  ])('$name while asking for the finalized block passes through, not INVALID_OPTION', async ({ error }) => {
    const { pool } = fakePool({
      answer: () => {
        throw error
      },
    })
    await expect(resolveBlock(pool, { finality: 'finalized' })).rejects.toBe(error)
  })
})
