import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { Pool } from '../../src/index.js'
import { start } from '../support/async.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// Recovery on demand (src/health/eagerProbes.ts) through the public API, with a scripted fetch and
// fake timers: while a request waits for an endpoint, the ones that could come back are probed every
// 250 ms; nobody waiting, a dead endpoint hears from the heartbeat once per interval.

const HEARTBEAT = { interval: 1_000, timeout: 500, failuresToDown: 2 }
// random 0.5: every heartbeat exactly one interval after the last one ends.
const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b'], random: () => 0.5, heartbeat: HEARTBEAT })
const sent: Array<{ at: number; host: string; method: string }> = []

/** A node on chain 1 at block 0x64; every call recorded with its (fake) time. */
const node = (call: FetchCall): Behaviour => {
  if (call.method === 'eth_chainId') return { kind: 'ok', result: '0x1' }
  if (call.method === 'eth_blockNumber') return { kind: 'ok', result: '0x64' }
  return { kind: 'ok', result: '0x0' }
}
/** Every call to `host` recorded, then answered as `behaviour` says. */
const recorded = (host: string, behaviour: Behaviour | ((call: FetchCall) => Behaviour)) =>
  fake.set(host, (call) => {
    sent.push({ at: Date.now(), host, method: call.method })
    return typeof behaviour === 'function' ? behaviour(call) : behaviour
  })
const sentTo = (host: string, from = -Infinity) => sent.filter((s) => s.host === host && s.at >= from)
const statuses = (p: Pool) => p.stats().endpoints.map((e) => e.status)
const balance = (p: Pool) => start(p.request('eth_getBalance', ['0x1', 'latest']))

beforeEach(() => {
  sent.length = 0
  recorded('a', node)
  recorded('b', node)
})

/** Both endpoints hung until the heartbeat has marked them down. */
async function allDown(p: Pool): Promise<void> {
  await vi.advanceTimersByTimeAsync(50)
  recorded('a', { kind: 'hang' })
  recorded('b', { kind: 'hang' })
  await vi.advanceTimersByTimeAsync(3_100)
  expect(statuses(p)).toEqual(['down', 'down'])
}

describe('recovery on demand', () => {
  it('while a request waits, each endpoint down is probed every 250 ms, hung probes holding back none; the request is served by the first probe that answers', async () => {
    const p = makePool()
    await allDown(p)
    const t0 = Date.now()
    const request = balance(p)
    await vi.advanceTimersByTimeAsync(999)
    // Every probe hangs (its own 500 ms timeout ends it); the next goes out 250 ms after the last began.
    expect(sentTo('a', t0).map((s) => [s.at - t0, s.method])).toEqual([
      [0, 'eth_chainId'],
      [250, 'eth_chainId'],
      [500, 'eth_chainId'],
      [750, 'eth_chainId'],
    ])
    expect(request.outcome.settled).toBe(false)
    recorded('a', node)
    const back = Date.now()
    await vi.advanceTimersByTimeAsync(1)
    expect(request.outcome.settled).toBe(true)
    expect(request.outcome.value).toBe('0x0')
    expect(sentTo('a', back).map((s) => [s.at - t0, s.method])).toEqual([
      [1_000, 'eth_chainId'],
      [1_000, 'eth_blockNumber'],
      [1_000, 'eth_getBalance'],
    ])
    expect(statuses(p)).toEqual(['up', 'down'])
  })

  it('nobody waiting, a dead endpoint gets one ping per heartbeat interval, traffic or not: eager probing ends with the wait', async () => {
    const p = makePool()
    await allDown(p)
    const request = balance(p)
    await vi.advanceTimersByTimeAsync(600)
    recorded('a', node)
    await vi.advanceTimersByTimeAsync(300)
    expect(request.outcome.value).toBe('0x0')
    // b stays dead; a serves a request every 100 ms, so nothing waits.
    const t0 = Date.now()
    for (let i = 0; i < 50; i++) {
      void p.request('eth_getBalance', [`0x${i + 2}`, 'latest'])
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(sentTo('a', t0).filter((s) => s.method === 'eth_getBalance')).toHaveLength(50)
    expect(sentTo('b', t0).length).toBeLessThanOrEqual(5)
  })

  it('an endpoint that answers a probe with 429 and Retry-After is not probed again before it ends, however long a request waits; then at once', async () => {
    const p = makePool({}, ['http://a'])
    await vi.advanceTimersByTimeAsync(50)
    recorded('a', { kind: 'hang' })
    await vi.advanceTimersByTimeAsync(3_100)
    expect(statuses(p)).toEqual(['down'])
    recorded('a', { kind: 'status', status: 429, headers: { 'retry-after': '3' } })
    const t0 = Date.now()
    const request = balance(p)
    await vi.advanceTimersByTimeAsync(0)
    expect(sentTo('a', t0).map((s) => [s.at - t0, s.method])).toEqual([[0, 'eth_chainId']])
    recorded('a', node)
    await vi.advanceTimersByTimeAsync(2_999)
    expect(sentTo('a', t0)).toHaveLength(1)
    // Then probed at once, its calls paced by the rate it learned from the 429 (1.28/s, no token left).
    await vi.advanceTimersByTimeAsync(1)
    expect(sentTo('a', t0).map((s) => [s.at - t0, s.method])).toEqual([
      [0, 'eth_chainId'],
      [3_000, 'eth_chainId'],
    ])
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)).toEqual(['up'])
    // The request, too, waits for a token at that rate.
    await vi.advanceTimersByTimeAsync(2_000)
    expect(request.outcome.value).toBe('0x0')
  })

  it('a breaker turning half-open while a request waits is tried at once by a probe, not at the next heartbeat', async () => {
    const p = makePool({ breaker: { volumeThreshold: 1, resetTimeout: 300 } })
    await vi.advanceTimersByTimeAsync(50)
    // Requests fail on both while their pings pass: only the breakers take them out.
    const failing = (call: FetchCall): Behaviour => (call.method === 'eth_getBalance' ? { kind: 'network' } : node(call))
    recorded('a', failing)
    recorded('b', failing)
    const t0 = Date.now()
    const request = balance(p)
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints.map((e) => e.breaker)).toEqual(['open', 'open'])
    recorded('a', node)
    recorded('b', node)
    // opossum's reset timer turns them half-open at 300 ms; the next heartbeat would be due at 1 s.
    await vi.advanceTimersByTimeAsync(310)
    expect(request.outcome.value).toBe('0x0')
    expect(p.stats().endpoints.map((e) => e.breaker)).toContain('closed')
    const trials = sentTo('a', t0).concat(sentTo('b', t0)).filter((s) => s.method === 'eth_blockNumber')
    expect(trials.length).toBeGreaterThan(0)
    for (const trial of trials) expect(trial.at - t0).toBeGreaterThanOrEqual(300)
  })

  it('a retry that no endpoint can take waits for one to come back instead of backing off', async () => {
    const p = makePool({ breaker: { volumeThreshold: 1, resetTimeout: 300 }, backoff: { initial: 2_000, max: 2_000, jitter: 0 } }, ['http://a'])
    await vi.advanceTimersByTimeAsync(50)
    recorded('a', (call) => (call.method === 'eth_getBalance' ? { kind: 'network' } : node(call)))
    const request = balance(p)
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
    recorded('a', node)
    await vi.advanceTimersByTimeAsync(310)
    expect(request.outcome.value).toBe('0x0')
  })

  it('a heartbeat interval under 250 ms is kept: only an eager probe stands in for a ping', async () => {
    makePool({ heartbeat: { interval: 50, timeout: 40 } })
    await vi.advanceTimersByTimeAsync(50)
    const t0 = Date.now()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(sentTo('a', t0).filter((s) => s.method === 'eth_blockNumber')).toHaveLength(20)
  })

  it('destroy() mid-wait leaves no probe timer and aborts the probes in flight', async () => {
    const p = makePool()
    await allDown(p)
    const from = fake.calls.length
    const request = balance(p)
    await vi.advanceTimersByTimeAsync(600)
    const inFlight = fake.calls.slice(from).filter((c) => !c.signal.aborted)
    expect(inFlight.length).toBeGreaterThan(0)
    await p.destroy()
    await request.done
    expect(request.outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
    expect(inFlight.every((c) => c.signal.aborted)).toBe(true)
    // useFakePool checks after each test that no timer is left.
  })
})
