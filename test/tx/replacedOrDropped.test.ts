import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/index.js'
import { isReplaced, RefusalClock } from '../../src/tx/replacedOrDropped.js'

// Replacement is decided from three answers: the sender's count now, our receipt, the count
// `confirmations` deep. A stub pool answers them from a table and records what was asked.

const TX = { hash: `0x${'ef'.repeat(32)}`, from: '0x000000000000000000000000000000000000f00d', nonce: 7, confirmations: 2 }

function stubPool(chain: { head: number; referenceHead?: number; receipt?: unknown; countAt: (block: number) => number }) {
  const asked: string[] = []
  const pool = {
    referenceHead: () => (chain.referenceHead === undefined ? undefined : BigInt(chain.referenceHead)),
    freshHead: async () => {
      asked.push('freshHead')
      return BigInt(chain.head)
    },
    request: async (method: string, params: unknown[]) => {
      asked.push(`${method}${method === 'eth_getTransactionCount' ? `@${String(params[1])}` : ''}`)
      if (method === 'eth_getTransactionCount') {
        const tag = params[1] as string
        return `0x${chain.countAt(tag === 'latest' ? chain.head : Number(tag)).toString(16)}`
      }
      if (method === 'eth_getTransactionReceipt') return chain.receipt ?? null
      throw new Error(`unexpected ${method}`)
    },
  } as unknown as Pool
  return { pool, asked }
}

describe('isReplaced', () => {
  it.each([
    {
      name: 'nonce unused: no, after one question',
      chain: { head: 102, countAt: () => 7 },
      replaced: false,
      asked: ['eth_getTransactionCount@latest'],
    },
    {
      name: 'nonce used by ours (our receipt exists): no',
      chain: { head: 102, receipt: { transactionHash: TX.hash }, countAt: () => 8 },
      replaced: false,
      asked: ['eth_getTransactionCount@latest', 'eth_getTransactionReceipt'],
    },
    {
      name: 'nonce used by another, confirmations deep: yes (count asked at head - confirmations + 1)',
      chain: { head: 102, countAt: (n: number) => (n >= 101 ? 8 : 7) },
      replaced: true,
      asked: ['eth_getTransactionCount@latest', 'eth_getTransactionReceipt', 'freshHead', 'eth_getTransactionCount@0x65'],
    },
    {
      name: 'nonce used by another, not deep enough yet: no',
      chain: { head: 102, countAt: (n: number) => (n >= 102 ? 8 : 7) },
      replaced: false,
      asked: ['eth_getTransactionCount@latest', 'eth_getTransactionReceipt', 'freshHead', 'eth_getTransactionCount@0x65'],
    },
    {
      name: 'the reference head lags the chain: the depth counts from the fresh head, not from it',
      chain: { head: 102, referenceHead: 98, countAt: (n: number) => (n >= 101 ? 8 : 7) },
      replaced: true,
      asked: ['eth_getTransactionCount@latest', 'eth_getTransactionReceipt', 'freshHead', 'eth_getTransactionCount@0x65'],
    },
    {
      name: 'a chain shorter than the depth: no',
      chain: { head: 0, countAt: () => 8 },
      replaced: false,
      asked: ['eth_getTransactionCount@latest', 'eth_getTransactionReceipt', 'freshHead'],
    },
  ])('$name', async ({ chain, replaced, asked }) => {
    const stub = stubPool(chain)
    await expect(isReplaced(stub.pool, TX, new AbortController().signal)).resolves.toBe(replaced)
    expect(stub.asked).toEqual(asked)
  })

  it('rejects when the pool cannot tell', async () => {
    const pool = { freshHead: () => Promise.reject(new Error('every endpoint down')), request: () => Promise.reject(new Error('every endpoint down')) } as unknown as Pool
    await expect(isReplaced(pool, TX, new AbortController().signal)).rejects.toThrow('every endpoint down')
  })
})

describe('RefusalClock', () => {
  it('has lasted dropAfter only once that long has passed since the first refusal; a reset starts over', () => {
    const clock = new RefusalClock()
    expect(clock.lasted(1_000, 5_000)).toBe(false)
    clock.refused(1_000)
    clock.refused(1_500)
    expect(clock.lasted(1_000, 1_999)).toBe(false)
    expect(clock.lasted(1_000, 2_000)).toBe(true)
    clock.reset()
    expect(clock.lasted(1_000, 10_000)).toBe(false)
    clock.refused(10_000)
    expect(clock.lasted(1_000, 10_999)).toBe(false)
  })
})
