import { beforeEach, describe, expect, it, vi } from 'vitest'
import { isResilientRpcError, waitForTransaction, type TransactionReceipt, type TransactionState, type WaitForTransactionOptions } from '../../src/index.js'
import { start } from '../support/async.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'
import type { Clock, TimerHandle } from '../../src/util/clock.js'

// waitForTransaction through a one-endpoint pool with a scripted chain and fake timers. Heartbeats
// are off, so the pool knows no reference head and every depth comes from eth_blockNumber.

const TX = `0x${'ab'.repeat(32)}`
const blockHash = (n: number, fork = 'a') => `0x${fork.repeat(2)}${n.toString(16).padStart(62, '0')}`
const hex = (n: number) => `0x${n.toString(16)}`

/** The chain the endpoint serves: its head, its canonical blocks (number → hash) and the receipt it knows. */
const chain = {
  head: 100,
  canonical: new Map<number, string>(),
  receipt: null as TransactionReceipt | null,
}

const receiptIn = (n: number, fork = 'a', status = '0x1'): TransactionReceipt => ({ transactionHash: TX, blockHash: blockHash(n, fork), blockNumber: hex(n), status })

/** Mines up to `head` on fork `fork` (replacing whatever was canonical at those heights). */
function mineTo(head: number, fork = 'a', from = 90) {
  for (let n = from; n <= head; n++) chain.canonical.set(n, blockHash(n, fork))
  chain.head = head
}

function node(call: FetchCall): Behaviour {
  switch (call.method) {
    case 'eth_getTransactionReceipt':
      return { kind: 'ok', result: chain.receipt }
    case 'eth_getBlockByNumber': {
      const hash = chain.canonical.get(Number(call.params[0]))
      return { kind: 'ok', result: hash === undefined ? null : { number: call.params[0], hash } }
    }
    case 'eth_blockNumber':
      return { kind: 'ok', result: hex(chain.head) }
    case 'eth_chainId':
      return { kind: 'ok', result: '0x1' }
    default:
      return { kind: 'rpcError', code: -32601, message: 'method not found' }
  }
}

const { fake, makePool, lastPool } = useFakePool({ endpoints: ['http://a'], random: () => 0, heartbeat: false })

const polls = () => fake.calls.filter((c) => c.method === 'eth_getTransactionReceipt').length

function wait(options: WaitForTransactionOptions = {}) {
  const states: TransactionState[] = []
  const run = start(waitForTransaction(makePool(), TX, { pollInterval: 1_000, onState: (s) => states.push(s), ...options }))
  return { ...run, states }
}

const pending = { status: 'pending' }
const mined = (n: number, confirmations: number, fork = 'a', reverted = false) => ({ status: 'mined', blockNumber: BigInt(n), blockHash: blockHash(n, fork), confirmations: BigInt(confirmations), reverted })
const reorged = (n: number, fork = 'a') => ({ status: 'reorged', blockNumber: BigInt(n), blockHash: blockHash(n, fork) })

beforeEach(() => {
  fake.set('a', node)
  chain.canonical.clear()
  chain.receipt = null
  mineTo(100)
})

describe('waitForTransaction: depth', () => {
  it('resolves once the receipt is `confirmations` deep, counting its own block, polling every pollInterval', async () => {
    chain.receipt = receiptIn(100)
    const { outcome, states } = wait({ confirmations: 3 })
    await vi.advanceTimersByTimeAsync(0)
    expect(states).toEqual([mined(100, 1)])
    expect(polls()).toBe(1)
    // No poll before the interval is up, one as it ends.
    await vi.advanceTimersByTimeAsync(999)
    expect(polls()).toBe(1)
    mineTo(101)
    await vi.advanceTimersByTimeAsync(1)
    expect(polls()).toBe(2)
    expect(states.at(-1)).toEqual(mined(100, 2))
    expect(outcome.settled).toBe(false)
    mineTo(102)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome).toEqual({ settled: true, value: receiptIn(100) })
    expect(states).toEqual([mined(100, 1), mined(100, 2), mined(100, 3)])
    // Done: no more polling.
    await vi.advanceTimersByTimeAsync(5_000)
    expect(polls()).toBe(3)
  })

  it.each([
    { name: 'already deep enough at the first poll', confirmations: 5, head: 104, polls: 1 },
    { name: 'confirmations 1: mined is enough', confirmations: 1, head: 100, polls: 1 },
    { name: 'confirmations as a bigint', confirmations: 2n, head: 101, polls: 1 },
    { name: 'the default of 1', confirmations: undefined, head: 100, polls: 1 },
  ])('$name', async ({ confirmations, head, polls: expected }) => {
    chain.receipt = receiptIn(100)
    mineTo(head)
    const { outcome, done } = wait({ confirmations })
    await vi.advanceTimersByTimeAsync(0)
    await done
    expect(outcome.value).toEqual(receiptIn(100))
    expect(polls()).toBe(expected)
  })

  it('asks whether the receipt block is canonical and how high the head is, by number', async () => {
    chain.receipt = receiptIn(100)
    const { done } = wait()
    await vi.advanceTimersByTimeAsync(0)
    await done
    expect(fake.calls.map((c) => [c.method, c.params])).toEqual([
      ['eth_getTransactionReceipt', [TX]],
      ['eth_getBlockByNumber', ['0x64', false]],
      ['eth_blockNumber', []],
    ])
  })

  it('counts the depth from a fresh head, not from the reference head of the last heartbeat', async () => {
    const pool = makePool({ heartbeat: { interval: 60_000 }, chainId: 1 })
    await vi.advanceTimersByTimeAsync(100)
    expect(pool.referenceHead()).toBe(100n)
    // Mined and built on right after the heartbeat: the pool has heard nothing of it.
    chain.receipt = receiptIn(101)
    mineTo(103)
    const states: TransactionState[] = []
    const { outcome } = start(waitForTransaction(pool, TX, { confirmations: 3, pollInterval: 1_000, onState: (s) => states.push(s) }))
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome).toEqual({ settled: true, value: receiptIn(101) })
    expect(states).toEqual([mined(101, 3)])
    expect(polls()).toBe(1)
  })

  it('uses the pollInterval it is given', async () => {
    const { outcome } = wait({ pollInterval: 250 })
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(polls()).toBe(5)
    chain.receipt = receiptIn(100)
    await vi.advanceTimersByTimeAsync(250)
    expect(outcome.value).toEqual(receiptIn(100))
  })

  it('resolves for a reverted transaction too, saying so', async () => {
    chain.receipt = receiptIn(100, 'a', '0x0')
    const { outcome, done, states } = wait()
    await vi.advanceTimersByTimeAsync(0)
    await done
    expect(outcome.value).toMatchObject({ status: '0x0' })
    expect(states).toEqual([mined(100, 1, 'a', true)])
  })
})

describe('waitForTransaction: states', () => {
  it('reports pending once, then mined at each new depth once', async () => {
    const { outcome, states } = wait({ confirmations: 3 })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(polls()).toBe(3)
    expect(states).toEqual([pending])
    mineTo(101)
    chain.receipt = receiptIn(101)
    await vi.advanceTimersByTimeAsync(1_000)
    // The head does not move for two polls: nothing new to report.
    await vi.advanceTimersByTimeAsync(2_000)
    mineTo(102)
    await vi.advanceTimersByTimeAsync(1_000)
    mineTo(103)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome.value).toEqual(receiptIn(101))
    expect(polls()).toBe(8)
    expect(states).toEqual([pending, mined(101, 1), mined(101, 2), mined(101, 3)])
  })

  it('a receipt whose block is not the canonical block at its height is reorged: not believed, and the wait goes on', async () => {
    // The endpoint still has the receipt from fork b, but block 100 is fork a's.
    chain.receipt = receiptIn(100, 'b')
    const { outcome, states } = wait({ confirmations: 2 })
    await vi.advanceTimersByTimeAsync(3_000)
    expect(outcome.settled).toBe(false)
    expect(states).toEqual([reorged(100, 'b')])
    // Re-included on the canonical chain.
    mineTo(102)
    chain.receipt = receiptIn(101)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome.value).toEqual(receiptIn(101))
    expect(states).toEqual([reorged(100, 'b'), mined(101, 2)])
  })

  it('a receipt that disappears after being seen is reorged; it stays reorged (not pending) until mined again', async () => {
    chain.receipt = receiptIn(100)
    const { outcome, states } = wait({ confirmations: 3 })
    await vi.advanceTimersByTimeAsync(0)
    expect(states).toEqual([mined(100, 1)])
    // Block 100 is replaced by fork b's, without the transaction.
    mineTo(101, 'b', 100)
    chain.receipt = null
    await vi.advanceTimersByTimeAsync(3_000)
    expect(states).toEqual([mined(100, 1), reorged(100)])
    chain.receipt = receiptIn(102, 'b')
    mineTo(102, 'b', 102)
    await vi.advanceTimersByTimeAsync(1_000)
    mineTo(104, 'b', 103)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome.value).toEqual(receiptIn(102, 'b'))
    expect(states).toEqual([mined(100, 1), reorged(100), mined(102, 1, 'b'), mined(102, 3, 'b')])
  })

  it('a receipt re-mined in another block is reorged out of the first, then resolves with the new one', async () => {
    chain.receipt = receiptIn(100)
    const { outcome, states } = wait({ confirmations: 2 })
    await vi.advanceTimersByTimeAsync(0)
    // In one poll's time: a reorg from block 100 on, the transaction now in fork b's block 101.
    mineTo(102, 'b', 100)
    chain.receipt = receiptIn(101, 'b')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome.value).toEqual(receiptIn(101, 'b'))
    expect(states).toEqual([mined(100, 1), reorged(100), mined(101, 2, 'b')])
  })
})

describe('waitForTransaction: deadline, abort, destroy', () => {
  it('times out with CONFIRMATION_TIMEOUT while pending, exactly at `timeout`', async () => {
    const { outcome, done } = wait({ timeout: 5_000 })
    await vi.advanceTimersByTimeAsync(4_999)
    expect(outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(isResilientRpcError(outcome.error, 'CONFIRMATION_TIMEOUT')).toBe(true)
    expect(outcome.error).toMatchObject({ hash: TX, lastState: pending, cause: { code: 'TIMEOUT', scope: 'request', timeout: 5_000 } })
    expect((outcome.error as Error).message).toMatchInlineSnapshot(`"Transaction 0xabababababababababababababababababababababababababababababababab not 1 deep in time: still pending"`)
    // The poll stopped with it.
    const after = polls()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(polls()).toBe(after)
  })

  it('the deadline and the polls run on the injected clock', async () => {
    let now = 0
    let ids = 0
    const timers = new Map<number, { at: number; fn: () => void }>()
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => (timers.set(++ids, { at: now + ms, fn }), ids as unknown as TimerHandle),
      clearTimeout: (handle) => void timers.delete(handle as unknown as number),
    }
    const advance = async (ms: number) => {
      now += ms
      for (const [id, t] of [...timers]) if (t.at <= now) timers.delete(id), t.fn()
      await vi.advanceTimersByTimeAsync(0)
    }
    const { outcome } = wait({ timeout: 5_000, clock })
    await vi.advanceTimersByTimeAsync(0)
    expect(polls()).toBe(1)
    // The global (fake) timers do not move it.
    await vi.advanceTimersByTimeAsync(60_000)
    expect(outcome.settled).toBe(false)
    expect(polls()).toBe(1)
    await advance(1_000)
    expect(polls()).toBe(2)
    await advance(3_999)
    expect(outcome.settled).toBe(false)
    await advance(1)
    expect(outcome.error).toMatchObject({ code: 'CONFIRMATION_TIMEOUT', cause: { code: 'TIMEOUT', timeout: 5_000 } })
    expect(timers.size).toBe(0)
  })

  it('names the depth reached when it times out mined but not deep enough', async () => {
    chain.receipt = receiptIn(100)
    const { outcome, done } = wait({ confirmations: 5, timeout: 3_000 })
    mineTo(101)
    await vi.advanceTimersByTimeAsync(3_000)
    await done
    expect(outcome.error).toMatchObject({ code: 'CONFIRMATION_TIMEOUT', lastState: mined(100, 2) })
    expect((outcome.error as Error).message).toMatchInlineSnapshot(`"Transaction 0xabababababababababababababababababababababababababababababababab not 5 deep in time: mined at depth 2 in block 100"`)
  })

  it('names a reorg when it times out reorged out', async () => {
    chain.receipt = receiptIn(100, 'b')
    const { outcome, done } = wait({ confirmations: 2, timeout: 2_500 })
    await vi.advanceTimersByTimeAsync(2_500)
    await done
    expect(outcome.error).toMatchObject({ code: 'CONFIRMATION_TIMEOUT', lastState: reorged(100, 'b') })
    expect((outcome.error as Error).message).toMatchInlineSnapshot(`"Transaction 0xabababababababababababababababababababababababababababababababab not 2 deep in time: reorged out of block 100"`)
  })

  it('the deadline also cuts a request in flight', async () => {
    fake.set('a', { kind: 'hang' })
    const { outcome, done } = wait({ timeout: 2_000 })
    await vi.advanceTimersByTimeAsync(2_000)
    await done
    expect(outcome.error).toMatchObject({ code: 'CONFIRMATION_TIMEOUT', lastState: pending })
    expect(fake.calls[0]!.signal.aborted).toBe(true)
  })

  it.each([
    { name: 'while sleeping between polls', at: 500, behaviour: node },
    { name: 'while a poll is in flight', at: 500, behaviour: (): Behaviour => ({ kind: 'hang' }) },
  ])('a caller abort $name → ABORTED, with the reason as cause', async ({ at, behaviour }) => {
    fake.set('a', behaviour)
    const controller = new AbortController()
    const { outcome, done } = wait({ signal: controller.signal, timeout: 10_000 })
    await vi.advanceTimersByTimeAsync(at)
    controller.abort(new Error('user left'))
    await done
    expect(isResilientRpcError(outcome.error, 'ABORTED')).toBe(true)
    expect((outcome.error as Error).cause).toEqual(new Error('user left'))
    const after = fake.calls.length
    await vi.advanceTimersByTimeAsync(5_000)
    expect(fake.calls).toHaveLength(after)
  })

  it('an already aborted signal → ABORTED without a request', async () => {
    const { outcome, done } = wait({ signal: AbortSignal.abort() })
    await done
    expect(outcome.error).toMatchObject({ code: 'ABORTED' })
    expect(fake.calls).toHaveLength(0)
  })

  it('destroying the pool during a poll ends the wait with POOL_DESTROYED at once', async () => {
    fake.set('a', { kind: 'hang' })
    const { outcome, done } = wait()
    await vi.advanceTimersByTimeAsync(500)
    await lastPool().destroy()
    await done
    expect(outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
  })

  it('destroying the pool between polls ends the wait with POOL_DESTROYED at once, leaving no timer', async () => {
    const { outcome, done } = wait()
    await vi.advanceTimersByTimeAsync(1_500)
    const before = polls()
    await lastPool().destroy()
    // No time passes: the pool's signal ends the sleep between polls.
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
    await done
    expect(polls()).toBe(before)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a wait started on a destroyed pool rejects with POOL_DESTROYED', async () => {
    const p = makePool()
    await p.destroy()
    await expect(waitForTransaction(p, TX)).rejects.toMatchObject({ code: 'POOL_DESTROYED' })
  })
})

describe('waitForTransaction: options', () => {
  it.each([
    { name: 'a short hash', hash: `0x${'ab'.repeat(31)}` },
    { name: 'a hash without 0x', hash: 'ab'.repeat(32) },
    { name: 'a non-hex hash', hash: `0x${'zz'.repeat(32)}` },
    { name: 'the empty string', hash: '' },
    { name: 'not a string', hash: 42 },
  ])('$name → INVALID_OPTION `hash`, nothing sent', async ({ hash }) => {
    await expect(waitForTransaction(makePool(), hash as string)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'hash' })
    expect(fake.calls).toHaveLength(0)
  })

  it.each([
    { confirmations: 0 },
    { confirmations: 0n },
    { confirmations: -1 },
  ])('confirmations $confirmations → INVALID_OPTION, nothing sent', async ({ confirmations }) => {
    await expect(waitForTransaction(makePool(), TX, { confirmations })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'confirmations' })
    expect(fake.calls).toHaveLength(0)
  })
})

describe('option validation', () => {
  it.each([
    { name: 'fractional confirmations', options: { confirmations: 1.5 }, option: 'confirmations' },
    { name: 'NaN confirmations', options: { confirmations: Number.NaN }, option: 'confirmations' },
    { name: 'a zero timeout', options: { timeout: 0 }, option: 'timeout' },
    { name: 'a negative timeout', options: { timeout: -1 }, option: 'timeout' },
    { name: 'a zero poll interval (a busy loop)', options: { pollInterval: 0 }, option: 'pollInterval' },
  ])('$name → INVALID_OPTION, nothing sent', async ({ options, option }) => {
    await expect(waitForTransaction(makePool(), TX, options)).rejects.toMatchObject({ code: 'INVALID_OPTION', option })
    expect(fake.calls).toHaveLength(0)
  })
})
