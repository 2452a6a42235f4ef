import { describe, expect, it } from 'vitest'
import { EagerProbes } from '../../src/health/eagerProbes.js'
import type { Clock, TimerHandle } from '../../src/util/clock.js'

// Spacing of probes (src/health/eagerProbes.ts) when timers fire late, as they do on a loaded
// machine: no two probes of one endpoint, eager or the heartbeat's, start less than 250 ms apart.

/** A clock whose timers run only when the test fires them, at whatever time the test has set. */
function lateClock() {
  let now = 0
  const timers = new Map<number, () => void>()
  let next = 1
  const clock: Clock = {
    now: () => now,
    setTimeout(fn) {
      timers.set(next, fn)
      return next++ as unknown as TimerHandle
    },
    clearTimeout(handle) {
      timers.delete(handle as unknown as number)
    },
  }
  return {
    clock,
    at(ms: number) {
      now = ms
    },
    /** Runs every timer armed so far, at the current time, however late that is. */
    fireAll() {
      const due = [...timers]
      timers.clear()
      for (const [, fn] of due) fn()
    },
  }
}

describe('eager probe spacing', () => {
  it('an eager timer that fires late, after the heartbeat has pinged, waits out 250 ms from that ping', async () => {
    const time = lateClock()
    const starts: number[] = []
    const probes: EagerProbes<'b'> = new EagerProbes<'b'>({
      clock: time.clock,
      unref: false,
      waiting: () => true,
      probeAt: (_e, now) => now,
      probe: (e) => void probes.run(e, async () => void starts.push(time.clock.now()), true),
    })
    probes.demand(['b'])
    time.fireAll() // t=0: the first eager probe; the next armed for t=250
    await Promise.resolve()
    time.at(255)
    // The heartbeat's tick at 255: the eager probe is 255 ms old, so the heartbeat pings.
    expect(probes.recent('b', 255)).toBe(false)
    await probes.run('b', async () => void starts.push(255))
    time.at(270)
    time.fireAll() // the eager timer due at 250 runs late, at 270
    await Promise.resolve()
    time.at(505)
    time.fireAll()
    await Promise.resolve()
    expect(starts).toEqual([0, 255, 505])
    probes.stop()
  })
})
