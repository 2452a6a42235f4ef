import { EventEmitter } from 'eventemitter3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { health, HEALTH_WAIT, type CliIo } from '../../src/cli/commands.js'
import type { EndpointStats, Pool, PoolEvents } from '../../src/index.js'
import { start } from '../support/async.js'
import { fakeEndpointStats, fakePoolStats } from '../support/fakeStats.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

// `health` waits for the heartbeats to settle every endpoint: woken by `endpoint:state`, bounded by
// --timeout, cancelled by the interrupt signal. A scripted pool, fake timers.

useCheckedFakeTimers()

/** A pool whose endpoints are what the test says; `settle` changes one and emits its event, as the pool does. */
function scriptedPool(endpoints: EndpointStats[]) {
  const emitter = new EventEmitter<PoolEvents>()
  let statsCalls = 0
  const pool = {
    stats: () => (statsCalls++, fakePoolStats([...endpoints])),
    on: (event: 'endpoint:state', listener: (...args: PoolEvents['endpoint:state']) => void) => (emitter.on(event, listener), pool),
    off: (event: 'endpoint:state', listener: (...args: PoolEvents['endpoint:state']) => void) => (emitter.off(event, listener), pool),
  } as unknown as Pool
  return {
    pool,
    listeners: () => emitter.listenerCount('endpoint:state'),
    statsCalls: () => statsCalls,
    settle(i: number, over: Partial<EndpointStats>) {
      const from = endpoints[i]!.status
      endpoints[i] = { ...endpoints[i]!, ...over }
      emitter.emit('endpoint:state', { endpoint: endpoints[i]!.endpoint, from, to: endpoints[i]!.status })
    },
  }
}

function io(signal?: AbortSignal) {
  const out: string[] = []
  const sink: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env: {}, readFile: () => Promise.reject(new Error('no files')), signal }
  return { sink, out }
}

const connecting = (id: string) => fakeEndpointStats(id, { status: 'connecting', head: undefined, lag: undefined, chainId: undefined, latencyEwma: undefined })
const args = (over: { timeout?: number; minHealthy?: number } = {}) =>
  ({ command: 'health' as const, rpc: [], config: undefined, chainId: undefined, json: true, timeout: over.timeout, minHealthy: over.minHealthy ?? 1 })

afterEach(() => {
  vi.restoreAllMocks()
})

describe('health: waiting for the endpoints', () => {
  it('answers as soon as the last endpoint settles, without polling, and stops listening', async () => {
    const s = scriptedPool([connecting('a'), connecting('b')])
    const { sink, out } = io()
    const run = start(health(s.pool, args({ timeout: 10_000 }), sink))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(run.outcome.settled).toBe(false)
    // Nothing happened, nothing was looked at again: one look before waiting, no polling.
    expect(s.statsCalls()).toBe(1)
    s.settle(0, { status: 'up', head: 100n })
    await vi.advanceTimersByTimeAsync(0)
    expect(run.outcome.settled).toBe(false)
    s.settle(1, { status: 'down', head: undefined })
    await vi.advanceTimersByTimeAsync(0)
    await run.done
    expect(run.outcome.value).toBe(0)
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: true, healthy: 1, endpoints: [{ state: 'up' }, { state: 'down' }] })
    expect(s.listeners()).toBe(0)
  })

  it('gives up on a hanging endpoint at --timeout, exactly, and reports it as connecting', async () => {
    const s = scriptedPool([fakeEndpointStats('a'), connecting('b')])
    const { sink, out } = io()
    const run = start(health(s.pool, args({ timeout: 3_000, minHealthy: 2 }), sink))
    await vi.advanceTimersByTimeAsync(2_999)
    expect(run.outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await run.done
    expect(run.outcome.value).toBe(3)
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: false, healthy: 1, endpoints: [{ state: 'up' }, { state: 'connecting' }] })
    expect(s.listeners()).toBe(0)
  })

  it(`waits ${HEALTH_WAIT} ms without --timeout`, async () => {
    const s = scriptedPool([connecting('a')])
    const run = start(health(s.pool, args(), io().sink))
    await vi.advanceTimersByTimeAsync(HEALTH_WAIT - 1)
    expect(run.outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await run.done
    expect(run.outcome.value).toBe(3)
  })

  it('does not wait when every endpoint has settled already', async () => {
    const s = scriptedPool([fakeEndpointStats('a')])
    const run = start(health(s.pool, args({ timeout: 10_000 }), io().sink))
    await vi.advanceTimersByTimeAsync(0)
    await run.done
    expect(run.outcome.value).toBe(0)
    expect(s.listeners()).toBe(0)
  })

  it('an interrupt ends the wait at once with its reason, listening to nothing after', async () => {
    const s = scriptedPool([connecting('a')])
    const interrupt = new AbortController()
    const { sink, out } = io(interrupt.signal)
    const run = start(health(s.pool, args({ timeout: 10_000 }), sink))
    await vi.advanceTimersByTimeAsync(100)
    const reason = new Error('SIGINT')
    interrupt.abort(reason)
    await vi.advanceTimersByTimeAsync(0)
    await run.done
    expect(run.outcome.error).toBe(reason)
    expect(out).toEqual([])
    expect(s.listeners()).toBe(0)
  })

  it('an interrupt before it starts sends it nowhere', async () => {
    const s = scriptedPool([connecting('a')])
    const interrupt = new AbortController()
    interrupt.abort(new Error('SIGINT'))
    await expect(health(s.pool, args(), io(interrupt.signal).sink)).rejects.toThrow('SIGINT')
    expect(s.statsCalls()).toBe(0)
  })
})
