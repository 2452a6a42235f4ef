import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { systemClock, type Clock } from '../../src/util/clock.js'
import { TimerWheel } from '../../src/util/timerWheel.js'

describe('TimerWheel', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    // A round epoch: bucket edges fall on multiples of the resolution.
    vi.setSystemTime(1_000_000)
  })

  afterEach(() => {
    const timers = vi.getTimerCount()
    vi.useRealTimers()
    expect(timers).toBe(0)
  })

  it('fires each callback once, at its time', async () => {
    const wheel = new TimerWheel(systemClock, { resolution: 10 })
    const fired: Array<[string, number]> = []
    const fn = (name: string) => fired.push([name, Date.now() - 1_000_000])
    wheel.schedule(25, fn, 'a')
    wheel.schedule(3, fn, 'b')
    wheel.schedule(1_000, fn, 'c')
    wheel.schedule(25, fn, 'd')
    await vi.advanceTimersByTimeAsync(2_000)
    expect(fired).toEqual([
      ['b', 3],
      ['a', 25],
      ['d', 25],
      ['c', 1_000],
    ])
    expect(wheel.size).toBe(0)
  })

  it('entries of one bucket run at their own times; cancelling the one the timer was armed for moves the wake-up on', async () => {
    const wheel = new TimerWheel(systemClock, { resolution: 10 })
    const fired: Array<[string, number]> = []
    const fn = (name: string) => fired.push([name, Date.now() - 1_000_000])
    const first = wheel.schedule(21, fn, 'first')
    wheel.schedule(29, fn, 'late')
    wheel.schedule(24, fn, 'mid')
    wheel.cancel(first)
    await vi.advanceTimersByTimeAsync(23)
    expect(fired).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(fired).toEqual([['mid', 24]])
    await vi.advanceTimersByTimeAsync(10)
    expect(fired).toEqual([
      ['mid', 24],
      ['late', 29],
    ])
  })

  it('keeps one native timer for many entries, armed for the earliest', async () => {
    const wheel = new TimerWheel(systemClock, { resolution: 10 })
    const fn = vi.fn()
    for (let i = 0; i < 100; i++) wheel.schedule(30_000 + i, fn, i)
    expect(vi.getTimerCount()).toBe(1)
    wheel.schedule(50, fn, -1)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(49)
    expect(fn).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(fn.mock.calls).toEqual([[-1]])
    await vi.advanceTimersByTimeAsync(30_100)
    expect(fn).toHaveBeenCalledTimes(101)
  })

  it('a cancelled entry never fires and holds nothing: an emptied wheel has no timer left after its wake-up', async () => {
    const wheel = new TimerWheel(systemClock, { resolution: 10 })
    const fn = vi.fn()
    const entries = Array.from({ length: 1_000 }, (_, i) => wheel.schedule(100 + (i % 7) * 10, fn, { i }))
    const keep = entries[500]!
    for (const e of entries) if (e !== keep) wheel.cancel(e)
    expect(wheel.size).toBe(1)
    for (const e of entries) if (e !== keep) expect([e.fn, e.arg, e.bucket]).toEqual([undefined, undefined, undefined])
    wheel.cancel(entries[0]!)
    expect(wheel.size).toBe(1)
    await vi.advanceTimersByTimeAsync(200)
    expect(fn.mock.calls).toEqual([[{ i: 500 }]])
    wheel.cancel(keep)
    expect(wheel.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a callback may cancel another entry of the same bucket, or schedule a new one', async () => {
    const wheel = new TimerWheel(systemClock, { resolution: 10 })
    const fired: string[] = []
    const later = wheel.schedule(20, (n: string) => fired.push(n), 'later')
    wheel.schedule(20, () => fired.push('first'), undefined)
    const victim = wheel.schedule(20, (n: string) => fired.push(n), 'victim')
    wheel.schedule(20, () => {
      fired.push('canceller')
      wheel.cancel(victim)
      wheel.schedule(5, (n: string) => fired.push(n), 'rescheduled')
    }, undefined)
    wheel.cancel(later)
    await vi.advanceTimersByTimeAsync(100)
    // Order within a bucket is not kept: cancelling `later` moved the canceller into its slot, so it
    // runs first and `victim`, cancelled while its bucket fires, never runs.
    expect(fired).toEqual(['canceller', 'first', 'rescheduled'])
    expect(wheel.size).toBe(0)
  })

  it('a throwing callback does not stop the others in its bucket', async () => {
    const wheel = new TimerWheel(systemClock, { resolution: 10 })
    const errors: unknown[] = []
    const onError = (e: unknown) => errors.push(e)
    process.on('uncaughtException', onError)
    try {
      const fn = vi.fn()
      wheel.schedule(10, () => {
        throw new Error('boom')
      }, undefined)
      wheel.schedule(10, fn, 1)
      await vi.advanceTimersByTimeAsync(10)
      expect(fn).toHaveBeenCalledWith(1)
    } finally {
      process.off('uncaughtException', onError)
    }
  })

  it('stop() drops every entry and the native timer', async () => {
    const wheel = new TimerWheel(systemClock)
    const fn = vi.fn()
    const e = wheel.schedule(10, fn, 1)
    wheel.schedule(5_000, fn, 2)
    wheel.stop()
    expect(vi.getTimerCount()).toBe(0)
    expect(wheel.size).toBe(0)
    wheel.cancel(e)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fn).not.toHaveBeenCalled()
    // Usable again: started lazily by the next schedule.
    wheel.schedule(10, fn, 3)
    await vi.advanceTimersByTimeAsync(20)
    expect(fn.mock.calls).toEqual([[3]])
  })

  it('its native timer keeps the process alive only while a live entry waits', () => {
    const unref = vi.fn()
    const ref = vi.fn()
    const handles: Array<{ fn: () => void; ms: number }> = []
    const clock = {
      now: () => 0,
      setTimeout: (fn: () => void, ms: number) => {
        handles.push({ fn, ms })
        return { unref, ref } as unknown as ReturnType<typeof setTimeout>
      },
      clearTimeout: vi.fn(),
    }
    const wheel = new TimerWheel(clock, { resolution: 10 })
    const a = wheel.schedule(60_000, () => {}, undefined)
    const b = wheel.schedule(70_000, () => {}, undefined)
    expect(handles.map((h) => h.ms)).toEqual([60_000])
    expect(unref).not.toHaveBeenCalled()
    wheel.cancel(a)
    expect(unref).not.toHaveBeenCalled()
    // Armed for nothing live: it must not hold the process until its wake-up.
    wheel.cancel(b)
    expect(unref).toHaveBeenCalledTimes(1)
    wheel.schedule(80_000, () => {}, undefined)
    expect(ref).toHaveBeenCalledTimes(1)
    wheel.stop()
    expect(clock.clearTimeout).toHaveBeenCalledTimes(1)
  })

  it('over many schedule/cancel cycles keeps only a bounded number of buckets', async () => {
    const wheel = new TimerWheel(systemClock, { resolution: 10 })
    const fn = () => {}
    for (let i = 0; i < 20_000; i++) {
      const a = wheel.schedule(30_000, fn, i)
      const b = wheel.schedule(50, fn, i)
      wheel.cancel(b)
      wheel.cancel(a)
      if (i % 20 === 0) await vi.advanceTimersByTimeAsync(1)
    }
    expect(wheel.size).toBe(0)
    // Emptied buckets are dropped at the next wake-up, however far ahead they were.
    expect(wheel.buckets).toBeLessThanOrEqual(2 * (1_000 / 10 + 2))
    await vi.advanceTimersByTimeAsync(100)
    expect(wheel.buckets).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('is a Clock: setTimeout runs the callback once at its time, clearTimeout forgets it, now is the clock\'s', async () => {
    const wheel: Clock = new TimerWheel(systemClock, { resolution: 10 })
    const fired: number[] = []
    wheel.setTimeout(() => fired.push(Date.now() - 1_000_000), 25)
    const cancelled = wheel.setTimeout(() => fired.push(-1), 10)
    wheel.clearTimeout(cancelled)
    expect(wheel.now()).toBe(Date.now())
    await vi.advanceTimersByTimeAsync(100)
    expect(fired).toEqual([25])
    expect(vi.getTimerCount()).toBe(0)
  })
})

