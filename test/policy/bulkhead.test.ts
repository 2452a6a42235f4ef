import { describe, expect, it, vi } from 'vitest'
import { LimitQueue } from '../../src/policy/bulkhead.js'
import { systemClock } from '../../src/util/clock.js'
import { start } from '../support/async.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

useCheckedFakeTimers()

describe('LimitQueue', () => {
  it('wakes only the head, in arrival order', async () => {
    const q = new LimitQueue(systemClock)
    const signal = new AbortController().signal
    const order: number[] = []
    const waits = [0, 1, 2].map((i) => q.wait(q.ticket(), undefined, signal).then(() => order.push(i)))
    q.wakeHead()
    await vi.advanceTimersByTimeAsync(0)
    expect(order).toEqual([0])
    expect(q.size).toBe(2)
    q.wakeHead()
    q.wakeHead()
    await Promise.all(waits)
    expect(order).toEqual([0, 1, 2])
  })

  it('one timer, for the head: it wakes at its token time; the next head gets its own', async () => {
    const q = new LimitQueue(systemClock)
    const signal = new AbortController().signal
    const now = Date.now()
    const a = start(q.wait(q.ticket(), now + 100, signal))
    const b = start(q.wait(q.ticket(), now + 50, signal))
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(99)
    expect([a.outcome.settled, b.outcome.settled]).toEqual([false, false])
    await vi.advanceTimersByTimeAsync(1)
    expect([a.outcome.settled, b.outcome.settled]).toEqual([true, false])
    // b's time has passed already: it is woken at once (a timer of 0, which Node makes 1 ms).
    await vi.advanceTimersByTimeAsync(1)
    expect(b.outcome.settled).toBe(true)
  })

  it('a re-queued waiter keeps its place ahead of later arrivals', async () => {
    const q = new LimitQueue(systemClock)
    const signal = new AbortController().signal
    const first = q.ticket()
    const later = start(q.wait(q.ticket(), undefined, signal))
    const again = start(q.wait(first, undefined, signal))
    q.wakeHead()
    await vi.advanceTimersByTimeAsync(0)
    expect([again.outcome.settled, later.outcome.settled]).toEqual([true, false])
    q.wakeHead()
    await later.done
  })

  it('an aborted head leaves and hands the turn to the next one', async () => {
    const q = new LimitQueue(systemClock)
    const controller = new AbortController()
    const head = start(q.wait(q.ticket(), Date.now() + 1_000, controller.signal))
    const next = start(q.wait(q.ticket(), undefined, new AbortController().signal))
    controller.abort(new Error('deadline'))
    await vi.advanceTimersByTimeAsync(0)
    expect(head.outcome.error).toEqual(new Error('deadline'))
    expect(next.outcome.settled).toBe(true)
    expect(q.size).toBe(0)
  })
})
