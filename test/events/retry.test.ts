import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ResilientRpcError } from '../../src/errors/base.js'
import { retryCallback, retryForever, type WatchBackoff } from '../../src/events/retry.js'
import { start } from '../support/async.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

// The watcher's callback retries run on p-retry, whose waits are the global timers: fake timers here.

useCheckedFakeTimers()
afterEach(() => {
  vi.restoreAllMocks()
})

const exact: WatchBackoff = { initial: 100, max: 350, factor: 2, jitter: 0 }

/** A callback that throws `failures` times (each time `thrown()`), recording when it was called. */
function flaky(failures: number, thrown: () => unknown = () => new Error('db down')) {
  const calls: number[] = []
  const t0 = Date.now()
  let left = failures
  const callback = () => {
    calls.push(Date.now() - t0)
    if (left-- > 0) throw thrown()
  }
  return { callback, calls }
}

function setup(backoff = exact) {
  const controller = new AbortController()
  const reports: ResilientRpcError[] = []
  return { controller, reports, options: { backoff, signal: controller.signal, report: (e: ResilientRpcError) => void reports.push(e) } }
}

describe('retryCallback', () => {
  it('calls again after initial, times factor, capped at max; each failure reported as HANDLER_FAILED', async () => {
    const { callback, calls } = flaky(4)
    const { options, reports } = setup()
    const run = start(retryCallback('event handler', callback, options))
    await vi.advanceTimersByTimeAsync(10_000)
    await run.done
    expect(run.outcome.value).toBe(true)
    expect(calls).toEqual([0, 100, 300, 650, 1_000])
    expect(reports.map((e) => [e.code, (e as { failures?: number }).failures, e.shortMessage])).toEqual([1, 2, 3, 4].map((n) => ['HANDLER_FAILED', n, `event handler threw (${n} time${n === 1 ? '' : 's'} in a row)`]))
    expect(reports[0]!.cause).toEqual(new Error('db down'))
  })

  it('retries whatever was thrown: a TypeError, a string', async () => {
    let n = 0
    const thrown = () => (n++ === 0 ? new TypeError("Cannot read properties of undefined (reading 'to')") : 'nope')
    const { callback, calls } = flaky(2, thrown)
    const { options, reports } = setup()
    const run = start(retryCallback('event handler', callback, options))
    await vi.advanceTimersByTimeAsync(1_000)
    await run.done
    expect(run.outcome.value).toBe(true)
    expect(calls).toHaveLength(3)
    expect(reports.map((e) => e.cause)).toEqual([expect.any(TypeError), 'nope'])
  })

  it('a stop ends a wait at once, leaving no timer, and resolves false', async () => {
    const { callback, calls } = flaky(Infinity)
    const { options, controller, reports } = setup({ ...exact, initial: 60_000, max: 60_000 })
    const run = start(retryCallback('event handler', callback, options))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(vi.getTimerCount()).toBe(1)
    controller.abort()
    await vi.advanceTimersByTimeAsync(0)
    await run.done
    expect(run.outcome).toEqual({ value: false, settled: true })
    expect(calls).toEqual([0])
    expect(reports).toHaveLength(1)
  })

  it('gives up once the event is no longer wanted, without another wait or call', async () => {
    let wanted = true
    const calls: number[] = []
    const callback = () => {
      calls.push(Date.now())
      // The block left the chain while the handler ran.
      if (calls.length === 2) wanted = false
      throw new Error('db down')
    }
    const { options, reports } = setup()
    const t0 = Date.now()
    const run = start(retryCallback('event handler', callback, { ...options, stillWanted: () => wanted }))
    await vi.advanceTimersByTimeAsync(100)
    expect(run.outcome).toEqual({ value: false, settled: true })
    expect(calls.map((t) => t - t0)).toEqual([0, 100])
    expect(reports).toHaveLength(2)
    // Not wanted from the start: not even called.
    expect(await retryCallback('event handler', callback, { ...options, stillWanted: () => false })).toBe(false)
    expect(calls).toHaveLength(2)
  })

  it('asks again after each wait: a block that left the chain meanwhile is not handled', async () => {
    const { callback, calls } = flaky(Infinity)
    let wanted = true
    const { options } = setup()
    const run = start(retryCallback('event handler', callback, { ...options, stillWanted: () => wanted }))
    await vi.advanceTimersByTimeAsync(50)
    wanted = false
    await vi.advanceTimersByTimeAsync(50)
    await run.done
    expect(run.outcome.value).toBe(false)
    expect(calls).toEqual([0])
  })

  it('after a stop: not called, unless evenIfStopped, then once and never retried', async () => {
    const { options, controller } = setup()
    controller.abort()
    const fails = flaky(1)
    expect(await retryCallback('onCheckpoint', fails.callback, options)).toBe(false)
    expect(fails.calls).toEqual([])
    expect(await retryCallback('onCheckpoint', fails.callback, { ...options, evenIfStopped: true })).toBe(false)
    expect(await retryCallback('onCheckpoint', fails.callback, { ...options, evenIfStopped: true })).toBe(true)
    expect(fails.calls).toHaveLength(2)
  })

  it('a callback that succeeds while the watcher stops counts as done', async () => {
    const { options, controller } = setup()
    const run = start(
      retryCallback(
        'event handler',
        async () => {
          controller.abort()
          await Promise.resolve()
        },
        options,
      ),
    )
    await vi.advanceTimersByTimeAsync(0)
    await run.done
    expect(run.outcome.value).toBe(true)
  })

  it('with jitter, one draw scales every wait of the item into [d × (1 − jitter), d], the cap included', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const { callback, calls } = flaky(3)
    const { options } = setup({ ...exact, jitter: 0.2 })
    const run = start(retryCallback('event handler', callback, options))
    await vi.advanceTimersByTimeAsync(2_000)
    await run.done
    // Scale 0.9: 90, 180, then 360 capped at 315.
    expect(calls).toEqual([0, 90, 270, 585])
  })
})

describe('retryForever', () => {
  it('maps retryBackoff onto p-retry: no retry limit, its own randomize off, one jitter draw for the loop', () => {
    const signal = new AbortController().signal
    expect(retryForever({ initial: 250, max: 30_000, factor: 2, jitter: 0.5 }, signal, () => 0.5)).toEqual({ retries: Infinity, minTimeout: 187.5, maxTimeout: 22_500, factor: 2, randomize: false, signal })
    expect(retryForever({ initial: 0, max: 0, factor: 3, jitter: 0 }, signal, () => 0.5)).toMatchObject({ minTimeout: 0, maxTimeout: 0, factor: 3, randomize: false })
  })
})
