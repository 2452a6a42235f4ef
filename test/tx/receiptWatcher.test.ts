import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { TransactionState } from '../../src/index.js'
import { watchReceipt } from '../../src/tx/receiptWatcher.js'
import { systemClock } from '../../src/util/clock.js'
import { start } from '../support/async.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// The outbox's receipt watcher over a one-endpoint pool with fake timers: p-retry starts
// waitForTransaction over after each failure, and p-retry's waits run on the (faked) global timers.

const TX = `0x${'cd'.repeat(32)}`
const blockHash = (n: number) => `0x${'aa'}${n.toString(16).padStart(62, '0')}`
const hex = (n: number) => `0x${n.toString(16)}`

const chain = { head: 100, minedAt: undefined as number | undefined }
/** How the node answers receipt polls: normally, a JSON-RPC error, or a receipt nobody can read. */
let receiptAnswer: 'normal' | 'error' | 'malformed' = 'normal'

function node(call: FetchCall): Behaviour {
  switch (call.method) {
    case 'eth_getTransactionReceipt':
      if (receiptAnswer === 'error') return { kind: 'rpcError', code: -32000, message: 'backend unavailable' }
      if (receiptAnswer === 'malformed') return { kind: 'ok', result: { transactionHash: TX } }
      return { kind: 'ok', result: chain.minedAt === undefined ? null : { transactionHash: TX, blockHash: blockHash(chain.minedAt), blockNumber: hex(chain.minedAt), status: '0x1' } }
    case 'eth_getBlockByNumber':
      return { kind: 'ok', result: { hash: blockHash(Number(call.params[0])) } }
    case 'eth_blockNumber':
      return { kind: 'ok', result: hex(chain.head) }
    default:
      return { kind: 'rpcError', code: -32601, message: 'method not found' }
  }
}

const { fake, makePool, lastPool } = useFakePool({ endpoints: ['http://a'], random: () => 0, heartbeat: false, retries: 0 })

beforeEach(() => {
  Object.assign(chain, { head: 100, minedAt: undefined })
  receiptAnswer = 'normal'
  fake.set('a', node)
})

const polls = () => fake.calls.filter((c) => c.method === 'eth_getTransactionReceipt').length

function watch(options: { confirmations?: number } = {}) {
  const states: TransactionState[] = []
  const controller = new AbortController()
  const run = start(
    watchReceipt(makePool(), { hash: TX, confirmations: options.confirmations ?? 1 }, {
      signal: controller.signal,
      pollInterval: 1_000,
      clock: systemClock,
      unref: false,
      onState: (s) => states.push(s),
    }),
  )
  return { ...run, states, controller }
}

describe('watchReceipt', () => {
  it('starts over pollInterval after each failure, then resolves with the receipt and its depth', async () => {
    chain.head = 101
    receiptAnswer = 'error'
    const { outcome, states } = watch({ confirmations: 2 })
    await vi.advanceTimersByTimeAsync(0)
    expect(polls()).toBe(1)
    await vi.advanceTimersByTimeAsync(999)
    expect(polls()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(polls()).toBe(2)
    receiptAnswer = 'normal'
    chain.minedAt = 100
    await vi.advanceTimersByTimeAsync(1_000)
    expect(polls()).toBe(3)
    expect(outcome.value).toMatchObject({ receipt: { blockNumber: '0x64' }, confirmations: 2n })
    expect(states).toEqual([{ status: 'mined', blockNumber: 100n, blockHash: blockHash(100), confirmations: 2n, reverted: false }])
  })

  it('a receipt it cannot read is one more failure, not the end of the watch', async () => {
    chain.minedAt = 100
    chain.head = 100
    receiptAnswer = 'malformed'
    const { outcome } = watch()
    await vi.advanceTimersByTimeAsync(3_000)
    expect(outcome.settled).toBe(false)
    expect(polls()).toBe(4)
    receiptAnswer = 'normal'
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome.value).toMatchObject({ confirmations: 1n })
  })

  it('a destroyed pool ends it with POOL_DESTROYED at the next attempt, leaving no timer', async () => {
    receiptAnswer = 'error'
    const { outcome } = watch()
    await vi.advanceTimersByTimeAsync(500)
    await lastPool().destroy()
    await vi.advanceTimersByTimeAsync(500)
    expect(outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
    expect(polls()).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('its signal ends it at once, in the wait between attempts too, with the signal\'s reason', async () => {
    receiptAnswer = 'error'
    const { outcome, controller } = watch()
    await vi.advanceTimersByTimeAsync(500)
    controller.abort(new Error('entry ended'))
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome.error).toEqual(new Error('entry ended'))
    // p-retry's wait is gone with it: once the pool is, not one timer is left.
    await lastPool().destroy()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(polls()).toBe(1)
  })

  it('its signal also ends a poll in flight', async () => {
    fake.set('a', { kind: 'hang' })
    const { outcome, controller } = watch()
    await vi.advanceTimersByTimeAsync(100)
    controller.abort(new Error('entry ended'))
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome.error).toEqual(new Error('entry ended'))
    expect(fake.calls.every((c) => c.signal.aborted)).toBe(true)
  })
})
