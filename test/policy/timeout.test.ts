import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { withTimeout } from '../../src/policy/timeout.js'
import type { Clock, TimerHandle } from '../../src/util/clock.js'
import { start } from '../support/async.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

// withTimeout with fake timers: every wait is driven by the test.

class Expired extends Error {
  override name = 'Expired'
}

const onTimeout = () => new Expired('time is up')

/** A run that never settles and ignores its signal, but keeps it for inspection. */
function ignoring() {
  const seen: AbortSignal[] = []
  const run = vi.fn((signal: AbortSignal) => {
    seen.push(signal)
    return new Promise<never>(() => {})
  })
  return { run, seen }
}

/** Captures a promise's outcome without leaving a rejection unhandled. */

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length

useCheckedFakeTimers()

afterEach(() => {
  vi.restoreAllMocks()
})

describe('withTimeout', () => {
  it('resolves with the value of run and leaves no timer nor parent listener', async () => {
    const parent = new AbortController().signal
    const add = vi.spyOn(parent, 'addEventListener')
    const remove = vi.spyOn(parent, 'removeEventListener')
    const { outcome, done } = start(withTimeout(async () => 42, { timeout: 1_000, signal: parent, onTimeout }))
    await done
    expect(outcome.value).toBe(42)
    expect(add).toHaveBeenCalledTimes(1)
    expect(add.mock.calls[0]![0]).toBe('abort')
    expect(remove).toHaveBeenCalledTimes(1)
    expect(remove.mock.calls[0]![0]).toBe('abort')
    expect(remove.mock.calls[0]![1]).toBe(add.mock.calls[0]![1])
    expect(abortListeners(parent)).toBe(0)
  })

  it('resolves with a value that arrives just before the deadline', async () => {
    const { outcome, done } = start(
      withTimeout((signal) => new Promise((resolve) => setTimeout(() => resolve(signal.aborted), 999)), { timeout: 1_000, onTimeout }),
    )
    await vi.advanceTimersByTimeAsync(999)
    await done
    expect(outcome.value).toBe(false)
  })

  it('rejects with the error of run and removes its parent listener', async () => {
    const parent = new AbortController().signal
    const failure = new Error('run failed')
    await expect(withTimeout(() => Promise.reject(failure), { timeout: 1_000, signal: parent, onTimeout })).rejects.toBe(failure)
    expect(abortListeners(parent)).toBe(0)
  })

  it('on timeout aborts the child signal with the onTimeout error and rejects with it, even if run ignores its signal', async () => {
    const parent = new AbortController().signal
    const { run, seen } = ignoring()
    const { outcome, done } = start(withTimeout(run, { timeout: 1_000, signal: parent, onTimeout }))
    await vi.advanceTimersByTimeAsync(999)
    expect(outcome.settled).toBe(false)
    expect(seen[0]!.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(outcome.error).toBeInstanceOf(Expired)
    expect(seen[0]!.aborted).toBe(true)
    expect(seen[0]!.reason).toBe(outcome.error)
    expect(parent.aborted).toBe(false)
    expect(abortListeners(parent)).toBe(0)
  })

  it('builds the timeout error only when the time is up', async () => {
    const build = vi.fn(onTimeout)
    const { run } = ignoring()
    const { done } = start(withTimeout(run, { timeout: 500, onTimeout: build }))
    await vi.advanceTimersByTimeAsync(499)
    expect(build).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(build).toHaveBeenCalledTimes(1)
  })

  it.each([
    { name: 'an Error', reason: new Error('caller left') },
    { name: 'a string', reason: 'caller left' },
    { name: 'an object', reason: { why: 'caller left' } },
  ])('a parent abort with $name propagates that reason to the child and rejects at once, even if run ignores it', async ({ reason }) => {
    const parent = new AbortController()
    const { run, seen } = ignoring()
    const { outcome, done } = start(withTimeout(run, { timeout: 1_000, signal: parent.signal, onTimeout }))
    await vi.advanceTimersByTimeAsync(100)
    parent.abort(reason)
    await done
    expect(outcome.error).toBe(reason)
    expect(seen[0]!.reason).toBe(reason)
    expect(abortListeners(parent.signal)).toBe(0)
  })

  it('an already aborted parent rejects with its reason without calling run or setting a timer', async () => {
    const reason = new Error('too late')
    const parent = AbortSignal.abort(reason)
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout')
    const { run } = ignoring()
    await expect(withTimeout(run, { timeout: 1_000, signal: parent, onTimeout })).rejects.toBe(reason)
    expect(run).not.toHaveBeenCalled()
    expect(setTimeoutSpy).not.toHaveBeenCalled()
    expect(abortListeners(parent)).toBe(0)
  })

  it('an already aborted controller rejects with its reason without calling run', async () => {
    const controller = new AbortController()
    const reason = new Error('destroyed')
    controller.abort(reason)
    const { run } = ignoring()
    await expect(withTimeout(run, { timeout: 1_000, controller, onTimeout })).rejects.toBe(reason)
    expect(run).not.toHaveBeenCalled()
  })

  it('Infinity sets no timer but still follows the parent', async () => {
    const parent = new AbortController()
    const { run, seen } = ignoring()
    const { outcome, done } = start(withTimeout(run, { timeout: Infinity, signal: parent.signal, onTimeout }))
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10 * 24 * 3_600_000)
    expect(outcome.settled).toBe(false)
    const reason = new Error('stop')
    parent.abort(reason)
    await done
    expect(outcome.error).toBe(reason)
    expect(seen[0]!.reason).toBe(reason)
  })

  it('sets exactly one timer while running', async () => {
    const { run } = ignoring()
    const { done } = start(withTimeout(run, { timeout: 1_000, onTimeout }))
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    await done
  })

  it('run receives the signal of the provided controller, and aborting that controller rejects with its reason', async () => {
    const controller = new AbortController()
    const { run, seen } = ignoring()
    const { outcome, done } = start(withTimeout(run, { timeout: 1_000, controller, onTimeout }))
    expect(seen[0]).toBe(controller.signal)
    const reason = new Error('pool destroyed')
    controller.abort(reason)
    await done
    expect(outcome.error).toBe(reason)
  })

  it('a timeout aborts the provided controller', async () => {
    const controller = new AbortController()
    const { run } = ignoring()
    const { outcome, done } = start(withTimeout(run, { timeout: 200, controller, onTimeout }))
    await vi.advanceTimersByTimeAsync(200)
    await done
    expect(controller.signal.aborted).toBe(true)
    expect(controller.signal.reason).toBe(outcome.error)
  })

  it('a parent abort after settling changes nothing', async () => {
    const parent = new AbortController()
    const seen: AbortSignal[] = []
    await withTimeout(async (signal) => void seen.push(signal), { timeout: 1_000, signal: parent.signal, onTimeout })
    parent.abort(new Error('late'))
    expect(seen[0]!.aborted).toBe(false)
  })
})

describe('withTimeout with an injected clock', () => {
  /** A clock that records its timers and fires them only when told. */
  function manualClock() {
    let nextId = 1
    const timers = new Map<number, { fn: () => void; ms: number }>()
    const calls = { setTimeout: [] as number[], clearTimeout: [] as unknown[] }
    const clock: Clock = {
      now: () => 0,
      setTimeout: (fn, ms) => {
        calls.setTimeout.push(ms)
        const id = nextId++
        timers.set(id, { fn, ms })
        return id as unknown as TimerHandle
      },
      clearTimeout: (handle) => {
        calls.clearTimeout.push(handle)
        timers.delete(handle as unknown as number)
      },
    }
    const fireAll = () => {
      for (const [id, t] of [...timers]) {
        timers.delete(id)
        t.fn()
      }
    }
    return { clock, calls, timers, fireAll }
  }

  it('uses the clock to set and clear its timer when run resolves', async () => {
    const { clock, calls, timers } = manualClock()
    await expect(withTimeout(async () => 'ok', { timeout: 750, onTimeout, clock })).resolves.toBe('ok')
    expect(calls.setTimeout).toEqual([750])
    expect(calls.clearTimeout).toEqual([1])
    expect(timers.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('times out when the clock fires, not when global time passes', async () => {
    const { clock, fireAll } = manualClock()
    const { run, seen } = ignoring()
    const { outcome, done } = start(withTimeout(run, { timeout: 750, onTimeout, clock }))
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(outcome.settled).toBe(false)
    fireAll()
    await done
    expect(outcome.error).toBeInstanceOf(Expired)
    expect(seen[0]!.reason).toBe(outcome.error)
  })

  it('Infinity never asks the clock for a timer', async () => {
    const { clock, calls } = manualClock()
    const parent = new AbortController()
    const { run } = ignoring()
    const { done } = start(withTimeout(run, { timeout: Infinity, signal: parent.signal, onTimeout, clock }))
    parent.abort(new Error('stop'))
    await done
    expect(calls.setTimeout).toEqual([])
  })
})

describe('clocks written as classes', () => {
  class CountingClock implements Clock {
    sets = 0
    clears = 0
    now() {
      return Date.now()
    }
    setTimeout(fn: () => void, ms: number): TimerHandle {
      this.sets++
      return globalThis.setTimeout(fn, ms)
    }
    clearTimeout(handle: TimerHandle) {
      this.clears++
      globalThis.clearTimeout(handle)
    }
  }

  it('withTimeout calls the clock as methods (with `this`)', async () => {
    const clock = new CountingClock()
    await expect(withTimeout(async () => 'ok', { timeout: 1_000, onTimeout: () => new Error('late'), clock })).resolves.toBe('ok')
    expect(clock.sets).toBe(1)
    expect(clock.clears).toBe(1)
  })
})
