import { getEventListeners } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import type { Clock, TimerHandle } from '../../src/util/clock.js'
import { sleep } from '../../src/util/sleep.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

/** Captures a promise's outcome without leaving a rejection unhandled. */
function start(promise: Promise<void>) {
  const outcome: { error?: unknown; settled: boolean } = { settled: false }
  const done = promise.then(
    () => Object.assign(outcome, { settled: true }),
    (error: unknown) => Object.assign(outcome, { error, settled: true }),
  )
  return { outcome, done }
}

/** Lets pending promise callbacks run without moving time. */
const flush = () => vi.advanceTimersByTimeAsync(0)

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length

useCheckedFakeTimers()

describe('sleep', () => {
  it.each([1, 100, 2_500])('resolves after %i ms, not before', async (ms) => {
    const { outcome } = start(sleep(ms))
    await vi.advanceTimersByTimeAsync(ms - 1)
    expect(outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toEqual({ settled: true })
  })

  it('with a signal, resolves after ms and removes its listener', async () => {
    const signal = new AbortController().signal
    const { outcome } = start(sleep(300, { signal }))
    expect(abortListeners(signal)).toBe(1)
    await vi.advanceTimersByTimeAsync(300)
    expect(outcome).toEqual({ settled: true })
    expect(abortListeners(signal)).toBe(0)
  })

  it.each([
    { name: 'an Error', reason: new Error('stop') },
    { name: 'a string', reason: 'stop' },
    { name: 'undefined (a DOMException AbortError)', reason: undefined },
  ])('an abort during the sleep rejects with signal.reason ($name) and clears the timer and listener', async ({ reason }) => {
    const controller = new AbortController()
    const { outcome, done } = start(sleep(1_000, { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(400)
    expect(vi.getTimerCount()).toBe(1)
    controller.abort(reason)
    await done
    expect(outcome.error).toBe(controller.signal.reason)
    if (reason !== undefined) expect(outcome.error).toBe(reason)
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(controller.signal)).toBe(0)
  })

  it.each([0, 100, -1])('an already aborted signal rejects with its reason at once (ms %i) and sets nothing', async (ms) => {
    const reason = new Error('already gone')
    const signal = AbortSignal.abort(reason)
    const { outcome } = start(sleep(ms, { signal }))
    await flush()
    expect(outcome).toEqual({ settled: true, error: reason })
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(signal)).toBe(0)
  })

  it.each([0, -1, -1_000])('ms %i resolves at once without a timer or listener', async (ms) => {
    const signal = new AbortController().signal
    const promise = sleep(ms, { signal })
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListeners(signal)).toBe(0)
    const { outcome } = start(promise)
    await Promise.resolve()
    await Promise.resolve()
    expect(outcome).toEqual({ settled: true })
  })

  it('an abort after resolving changes nothing', async () => {
    const controller = new AbortController()
    const { outcome, done } = start(sleep(10, { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(10)
    await done
    controller.abort(new Error('late'))
    await flush()
    expect(outcome).toEqual({ settled: true })
  })

  it('uses the injected clock', async () => {
    const pending: Array<() => void> = []
    const calls: string[] = []
    const clock: Clock = {
      now: () => 0,
      setTimeout: (fn, ms) => {
        calls.push(`set ${ms}`)
        pending.push(fn)
        return pending.length as unknown as TimerHandle
      },
      clearTimeout: (handle) => void calls.push(`clear ${String(handle)}`),
    }
    const first = start(sleep(250, { clock }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(first.outcome.settled).toBe(false)
    pending[0]!()
    await first.done
    expect(first.outcome).toEqual({ settled: true })

    const controller = new AbortController()
    const second = start(sleep(500, { clock, signal: controller.signal }))
    controller.abort(new Error('stop'))
    await second.done
    expect(calls).toEqual(['set 250', 'set 500', 'clear 2'])
    expect(vi.getTimerCount()).toBe(0)
  })
})
