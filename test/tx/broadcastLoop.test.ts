import { describe, expect, it, vi } from 'vitest'
import { BroadcastLoop } from '../../src/tx/broadcastLoop.js'
import { systemClock } from '../../src/util/clock.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

// The re-broadcast cadence alone: rounds are scripted to take a given time, and the test reads when
// each one started.

useCheckedFakeTimers()

function loop(options: { interval?: number; roundTakes?: number } = {}) {
  const starts: number[] = []
  const state = { due: true, roundTakes: options.roundTakes ?? 0, fail: false }
  const broadcasts = new BroadcastLoop({
    round: async () => {
      starts.push(Date.now())
      if (state.roundTakes > 0) await new Promise((r) => setTimeout(r, state.roundTakes))
      if (state.fail) throw new Error('a bug in a round')
    },
    interval: options.interval ?? 1_000,
    due: () => state.due,
    setTimer: (fn, ms) => systemClock.setTimeout(fn, ms),
    clearTimer: (handle) => systemClock.clearTimeout(handle),
  })
  const t0 = Date.now()
  return { broadcasts, state, starts: () => starts.map((t) => t - t0) }
}

describe('BroadcastLoop', () => {
  it('a round when triggered, then one every interval counted from the start of the previous round', async () => {
    const { broadcasts, starts } = loop({ interval: 1_000, roundTakes: 300 })
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(3_500)
    expect(starts()).toEqual([0, 1_000, 2_000, 3_000])
    broadcasts.clear()
  })

  it('a round longer than the interval is followed at once by one more, not by every one that fell due', async () => {
    const { broadcasts, starts } = loop({ interval: 1_000, roundTakes: 2_500 })
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(starts()).toEqual([0, 2_500, 5_000])
    broadcasts.clear()
    await vi.advanceTimersByTimeAsync(2_500)
  })

  it('a trigger during a round runs one more right after it; between rounds, at once, restarting the cadence', async () => {
    const { broadcasts, starts } = loop({ interval: 1_000, roundTakes: 300 })
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(100)
    broadcasts.trigger()
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(400)
    expect(starts()).toEqual([0, 300])
    await vi.advanceTimersByTimeAsync(100)
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(0)
    expect(starts()).toEqual([0, 300, 600])
    // The cadence now counts from 600.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(starts()).toEqual([0, 300, 600, 1_600])
    broadcasts.clear()
    await vi.advanceTimersByTimeAsync(300)
  })

  it('no round and no timer while not due; clear() leaves no timer', async () => {
    const { broadcasts, state, starts } = loop()
    state.due = false
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(starts()).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
    state.due = true
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(0)
    expect(vi.getTimerCount()).toBe(1)
    broadcasts.clear()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stops scheduling once rounds are no longer due, even with a round in flight', async () => {
    const { broadcasts, state, starts } = loop({ interval: 1_000, roundTakes: 300 })
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(100)
    broadcasts.trigger()
    state.due = false
    broadcasts.clear()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(starts()).toEqual([0])
  })

  it('a round that throws does not stop the cadence', async () => {
    const { broadcasts, state, starts } = loop({ interval: 1_000 })
    state.fail = true
    broadcasts.trigger()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(starts()).toEqual([0, 1_000, 2_000])
    broadcasts.clear()
  })
})
