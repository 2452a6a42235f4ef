import { Transaction, Wallet } from 'ethers'
import { afterEach, beforeEach, expect, vi } from 'vitest'
import { createOutbox, createPool, type Outbox, type OutboxOptions, type OutboxState, type Pool } from '../../src/index.js'
import { createFakeFetch, type Behaviour, type FetchCall } from '../support/fakeFetch.js'

// A scripted two-endpoint chain for the outbox's tests, with fake timers: broadcasts, receipts,
// nonces, reorgs and outages are all the test's to decide. One signed transaction (nonce 7) is sent.

export const wallet = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
export const signed = await wallet.signTransaction({ to: '0x000000000000000000000000000000000000dEaD', value: 1n, nonce: 7, gasLimit: 21_000n, gasPrice: 1_000_000_000n, chainId: 1n })
export const hash = Transaction.from(signed).hash!
export const hex = (n: number | bigint) => `0x${n.toString(16)}`
export const blockHash = (n: number, fork = 'a') => `0x${fork.repeat(2)}${n.toString(16).padStart(62, '0')}`

/** What the scripted nodes know. */
export const chain = {
  head: 100,
  fork: 'a',
  /** Block our transaction is in, if mined. */
  minedAt: undefined as number | undefined,
  /** Block where another transaction used nonce 7, if any. */
  replacedAt: undefined as number | undefined,
  /** Hosts that are down (network errors). */
  down: new Set<string>(),
  /** Mempools per host. */
  mempool: new Map<string, Set<string>>(),
  /** How a host answers eth_sendRawTransaction when it does not have the transaction: accept, or this refusal. */
  refuse: undefined as string | undefined,
}

export function node(call: FetchCall): Behaviour {
  if (chain.down.has(call.host)) return { kind: 'network' }
  const pool = chain.mempool.get(call.host) ?? new Set<string>()
  chain.mempool.set(call.host, pool)
  const nonceUsedAt = chain.minedAt ?? chain.replacedAt
  switch (call.method) {
    case 'eth_sendRawTransaction':
      if (nonceUsedAt !== undefined) return { kind: 'rpcError', code: -32000, message: 'nonce too low' }
      if (pool.has(hash)) return { kind: 'rpcError', code: -32000, message: 'already known' }
      if (chain.refuse) return { kind: 'rpcError', code: -32000, message: chain.refuse }
      pool.add(hash)
      return { kind: 'ok', result: hash }
    case 'eth_getTransactionReceipt':
      return { kind: 'ok', result: chain.minedAt === undefined ? null : { transactionHash: hash, blockHash: blockHash(chain.minedAt, chain.fork), blockNumber: hex(chain.minedAt), status: '0x1' } }
    case 'eth_getTransactionByHash':
      return { kind: 'ok', result: chain.minedAt !== undefined || pool.has(hash) ? { hash } : null }
    case 'eth_getBlockByNumber': {
      const n = Number(call.params[0])
      return { kind: 'ok', result: n <= chain.head ? { number: hex(n), hash: blockHash(n, chain.fork) } : null }
    }
    case 'eth_blockNumber':
      return { kind: 'ok', result: hex(chain.head) }
    case 'eth_getTransactionCount': {
      const tag = call.params[1] as string
      const at = tag === 'latest' || tag === 'pending' ? chain.head : Number(tag)
      return { kind: 'ok', result: hex(nonceUsedAt !== undefined && nonceUsedAt <= at ? 8 : 7) }
    }
    default:
      return { kind: 'rpcError', code: -32601, message: 'method not found' }
  }
}

export const fake = createFakeFetch()

/**
 * Before each test: fake timers, a fresh chain and a pool over endpoints a and b. After it: the outbox
 * closed, the pool destroyed and not one timer left.
 */
export function useScriptedOutbox() {
  let pool: Pool | undefined
  let outbox: Outbox | undefined

  beforeEach(() => {
    vi.useFakeTimers()
    Object.assign(chain, { head: 100, fork: 'a', minedAt: undefined, replacedAt: undefined, down: new Set(), mempool: new Map(), refuse: undefined })
    fake.reset()
    fake.set('a', node)
    fake.set('b', node)
    pool = createPool({ endpoints: ['http://a', 'http://b'], fetch: fake.fetch, random: () => 0, heartbeat: false, hedge: false, dedupe: false, retries: 1, defaultTimeout: 5_000 })
  })

  afterEach(async () => {
    outbox?.close()
    outbox = undefined
    await pool!.destroy()
    // Anything settling on the way out (aborted requests) runs before the count.
    await vi.advanceTimersByTimeAsync(0)
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })

  const currentPool = () => pool!

  const broadcasts = () => fake.calls.filter((c) => c.method === 'eth_sendRawTransaction').length

  /** An outbox on this test's pool (closed after it) with short intervals, recording every state. */
  function makeOutbox(options: OutboxOptions = {}) {
    const states: OutboxState[] = []
    outbox = createOutbox(currentPool(), { rebroadcastInterval: 10_000, pollInterval: 1_000, dropAfter: 30_000, ...options })
    outbox.on('state', (e) => {
      expect(e.hash).toBe(hash)
      states.push(e.state)
    })
    return { outbox, states, statuses: () => states.map((s) => s.status) }
  }

  return { currentPool, broadcasts, makeOutbox }
}
