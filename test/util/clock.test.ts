import { describe, expect, it, vi } from 'vitest'
import { systemClock, unrefTimer, type TimerHandle } from '../../src/util/clock.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

describe('systemClock under fake timers installed after import', () => {
  useCheckedFakeTimers()

  it('now() reads the faked Date.now', () => {
    vi.setSystemTime(1_700_000_000_000)
    expect(systemClock.now()).toBe(1_700_000_000_000)
    vi.advanceTimersByTime(1_234)
    expect(systemClock.now()).toBe(1_700_000_001_234)
  })

  it('setTimeout() schedules on the fake timers and fires when time is advanced', async () => {
    const fn = vi.fn()
    systemClock.setTimeout(fn, 500)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(499)
    expect(fn).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('clearTimeout() cancels a fake timer', async () => {
    const fn = vi.fn()
    const handle = systemClock.setTimeout(fn, 500)
    systemClock.clearTimeout(handle)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(fn).not.toHaveBeenCalled()
  })

  it('works detached from the object', async () => {
    const { setTimeout, clearTimeout, now } = systemClock
    const fn = vi.fn()
    clearTimeout(setTimeout(fn, 10))
    setTimeout(fn, 20)
    await vi.advanceTimersByTimeAsync(20)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(now()).toBe(Date.now())
  })
})

describe('systemClock after fake timers are removed', () => {
  it('goes back to the real timers', () => {
    vi.useFakeTimers()
    vi.useRealTimers()
    const handle = systemClock.setTimeout(() => {}, 60_000)
    // A real Node timer, not a fake one.
    expect(typeof (handle as { hasRef?: unknown }).hasRef).toBe('function')
    systemClock.clearTimeout(handle)
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1_000)
  })
})

describe('unrefTimer', () => {
  it('unrefs a real Node timer', () => {
    const handle = setTimeout(() => {}, 60_000)
    try {
      expect(handle.hasRef()).toBe(true)
      unrefTimer(handle)
      expect(handle.hasRef()).toBe(false)
    } finally {
      clearTimeout(handle)
    }
  })

  it('calls unref on the handle when it has one', () => {
    const unref = vi.fn()
    unrefTimer({ unref } as unknown as TimerHandle)
    expect(unref).toHaveBeenCalledTimes(1)
  })

  it.each([
    { name: 'a number (browser handle)', handle: 42 },
    { name: 'an object without unref', handle: {} },
  ])('is a no-op on $name', ({ handle }) => {
    expect(() => unrefTimer(handle as unknown as TimerHandle)).not.toThrow()
  })
})
