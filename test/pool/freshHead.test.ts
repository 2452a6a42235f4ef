import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/index.js'
import type { Behaviour } from '../support/fakeFetch.js'
import { hex, useThreeNodes, type Host } from '../support/threeNodes.js'
import { start } from '../support/async.js'

// pool.freshHead() (src/pool/freshHead.ts): the confirmed head while it is fresh, else one shared
// eth_blockNumber round. Scripted nodes and fake timers; heartbeats once a minute (the first round at
// once), so between them the chain moves without the pool hearing of it, as when nothing but the
// test's own transactions happen.

/** Per host: what eth_blockNumber does instead of answering its head at once. */
const blockNumber: Partial<Record<Host, Behaviour>> = {}
const { fake, makePool, heads, script, readyPool: ready } = useThreeNodes({ interval: 60_000, timeout: 1_000 }, (host, call, head) => {
  if (call.method === 'eth_blockNumber') return blockNumber[host] ?? { kind: 'ok', result: hex(head) }
  return { kind: 'rpcError', code: -32601, message: 'method not found' }
})

/** A pool whose endpoints all answered their first heartbeat at head 10 (then none for a minute). */
async function readyPool(options: Parameters<typeof makePool>[0] = {}) {
  for (const h of ['a', 'b', 'c'] as const) blockNumber[h] = undefined
  return ready(options)
}

const asked = () => fake.calls.filter((c) => c.method === 'eth_blockNumber').map((c) => c.host)

describe('pool.freshHead(): when to ask', () => {
  it('a head confirmed within maxAge is the answer; nothing is asked', async () => {
    const pool = await readyPool()
    heads.a = heads.b = heads.c = 20
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(pool.freshHead({ maxAge: 2_000 })).resolves.toBe(10n)
    expect(asked()).toEqual([])
  })

  it('older than maxAge: one round, to every endpoint at once, shared by concurrent callers; the pool learns the head', async () => {
    const pool = await readyPool()
    heads.a = heads.b = heads.c = 20
    await vi.advanceTimersByTimeAsync(1_000)
    const callers = [pool.freshHead({ maxAge: 500 }), pool.freshHead({ maxAge: 500 }), pool.freshHead()]
    await expect(Promise.all(callers)).resolves.toEqual([20n, 20n, 20n])
    expect(asked().sort()).toEqual(['a', 'b', 'c'])
    expect(pool.referenceHead()).toBe(20n)
    // Now confirmed: fresh for a caller that allows a moment's age.
    await expect(pool.freshHead({ maxAge: 100 })).resolves.toBe(20n)
    expect(asked()).toHaveLength(3)
  })

  it('before the pool has measured the chain\'s pace (maxAge 0), every call asks; a settled round is not joined', async () => {
    const pool = await readyPool()
    await pool.freshHead()
    await pool.freshHead()
    expect(asked()).toHaveLength(6)
  })

  it('by default, fresh for about one block time, measured from how fast the confirmed head advances', async () => {
    const pool = await readyPool()
    // The first advance only starts the measurement (head 10 was there before the pool looked).
    for (const head of [11, 12]) {
      await vi.advanceTimersByTimeAsync(4_000)
      heads.a = heads.b = heads.c = head
      await expect(pool.freshHead()).resolves.toBe(BigInt(head))
    }
    expect(asked()).toHaveLength(6)
    // 4 s per block: a head confirmed 3 s ago is fresh, one confirmed 4.5 s ago is not.
    await vi.advanceTimersByTimeAsync(3_000)
    heads.a = heads.b = heads.c = 13
    await expect(pool.freshHead()).resolves.toBe(12n)
    expect(asked()).toHaveLength(6)
    await vi.advanceTimersByTimeAsync(1_500)
    await expect(pool.freshHead()).resolves.toBe(13n)
    expect(asked()).toHaveLength(9)
  })

  it('without heartbeats, its own rounds are the confirmations, fresh for maxAge', async () => {
    const pool = await readyPool({ heartbeat: false })
    await expect(pool.freshHead()).resolves.toBe(10n)
    expect(asked()).toHaveLength(3)
    heads.a = heads.b = heads.c = 11
    await vi.advanceTimersByTimeAsync(500)
    await expect(pool.freshHead({ maxAge: 1_000 })).resolves.toBe(10n)
    expect(asked()).toHaveLength(3)
    await expect(pool.freshHead({ maxAge: 100 })).resolves.toBe(11n)
    expect(asked()).toHaveLength(6)
  })
})

describe('pool.freshHead(): what the round confirms', () => {
  it('settles once two answers agree, without waiting for a slow third', async () => {
    const pool = await readyPool()
    heads.a = heads.b = heads.c = 20
    blockNumber.c = { kind: 'ok', result: hex(20), delay: 800 }
    const { outcome } = start(pool.freshHead())
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome).toMatchObject({ settled: true, value: 20n })
  })

  it('when the first two disagree, waits for the third, which decides', async () => {
    const pool = await readyPool()
    heads.a = 21
    heads.b = 20
    blockNumber.c = { kind: 'ok', result: hex(21), delay: 300 }
    const { outcome } = start(pool.freshHead())
    await vi.advanceTimersByTimeAsync(299)
    expect(outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toMatchObject({ settled: true, value: 21n })
  })

  it('one endpoint claiming a higher head does not count alone: the highest two reach is the head', async () => {
    const pool = await readyPool()
    heads.a = 1_000
    heads.b = 20
    heads.c = 19
    await expect(pool.freshHead()).resolves.toBe(20n)
  })

  it('a hanging endpoint holds the round no longer than a ping may take (heartbeat.timeout)', async () => {
    const pool = await readyPool()
    heads.a = 21
    heads.b = 20
    blockNumber.c = { kind: 'hang' }
    const { outcome } = start(pool.freshHead())
    await vi.advanceTimersByTimeAsync(999)
    expect(outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toMatchObject({ settled: true, value: 20n })
  })

  it('the only endpoint that answered is believed when the others failed', async () => {
    const pool = await readyPool()
    heads.a = 20
    blockNumber.b = blockNumber.c = { kind: 'status', status: 503 }
    await expect(pool.freshHead()).resolves.toBe(20n)
  })

  it('never below the read floor: what the pool already returned for eth_blockNumber', async () => {
    const pool = await readyPool()
    heads.a = heads.b = heads.c = 14
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await pool.request('eth_blockNumber')).toBe(hex(14))
    // Every endpoint now answers less (say, behind a load balancer that switched nodes).
    heads.a = heads.b = heads.c = 12
    await expect(pool.freshHead({ maxAge: 0 })).resolves.toBe(14n)
  })

  it('no endpoint can take it now: the ordinary request path waits for one and answers', async () => {
    script()
    const pool = makePool()
    // Before the first heartbeat, every endpoint is still connecting.
    const { outcome, done } = start(pool.freshHead({ timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(200)
    await done
    expect(outcome).toMatchObject({ settled: true, value: 10n })
  })
})

describe('pool.freshHead(): deadline, abort, options', () => {
  it('rejects with TIMEOUT at its deadline when every endpoint hangs, and the round ends with it', async () => {
    const pool = await readyPool()
    blockNumber.a = blockNumber.b = blockNumber.c = { kind: 'hang' }
    const { outcome } = start(pool.freshHead({ timeout: 400 }))
    await vi.advanceTimersByTimeAsync(399)
    expect(outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toMatchObject({ settled: true, error: { code: 'TIMEOUT', scope: 'request', timeout: 400 } })
    const round = fake.calls.filter((c) => c.method === 'eth_blockNumber')
    expect(round).toHaveLength(3)
    expect(round.every((c) => c.signal.aborted)).toBe(true)
  })

  it('rejects with ABORTED when its caller aborts; the round goes on for those still waiting, and ends with the last', async () => {
    const pool = await readyPool()
    blockNumber.a = blockNumber.b = blockNumber.c = { kind: 'hang' }
    const first = new AbortController()
    const second = new AbortController()
    const one = start(pool.freshHead({ signal: first.signal }))
    const two = start(pool.freshHead({ signal: second.signal }))
    await vi.advanceTimersByTimeAsync(10)
    first.abort(new Error('gone'))
    await vi.advanceTimersByTimeAsync(0)
    expect(one.outcome).toMatchObject({ settled: true, error: { code: 'ABORTED' } })
    const round = fake.calls.filter((c) => c.method === 'eth_blockNumber')
    expect(round.some((c) => c.signal.aborted)).toBe(false)
    second.abort(new Error('gone too'))
    await vi.advanceTimersByTimeAsync(0)
    expect(two.outcome).toMatchObject({ settled: true, error: { code: 'ABORTED' } })
    expect(round.every((c) => c.signal.aborted)).toBe(true)
  })

  it('an already aborted signal rejects with ABORTED before anything is asked', async () => {
    const pool = await readyPool()
    await expect(pool.freshHead({ signal: AbortSignal.abort(), maxAge: 0 })).rejects.toMatchObject({ code: 'ABORTED' })
    expect(asked()).toEqual([])
  })

  it.each([
    { name: 'an unknown option', options: { maxage: 5 }, option: 'maxage', message: 'did you mean `maxAge`?' },
    { name: 'a negative maxAge', options: { maxAge: -1 }, option: 'maxAge', message: 'expected a duration in ms >= 0' },
    { name: 'a zero timeout', options: { timeout: 0 }, option: 'timeout', message: 'expected a duration in ms > 0' },
    { name: 'a signal that is not one', options: { signal: {} }, option: 'signal', message: 'expected an AbortSignal' },
  ])('$name → INVALID_OPTION', async ({ options, option, message }) => {
    const pool = await readyPool()
    const error = await pool.freshHead(options as never).catch((e: unknown) => e as Error)
    expect(isResilientRpcError(error, 'INVALID_OPTION')).toBe(true)
    expect(error).toMatchObject({ option })
    expect((error as Error).message).toContain(message)
    expect(asked()).toEqual([])
  })

  it('a destroyed pool rejects with POOL_DESTROYED', async () => {
    const pool = await readyPool()
    await pool.destroy()
    await expect(pool.freshHead({ maxAge: Infinity })).rejects.toMatchObject({ code: 'POOL_DESTROYED' })
  })
})
