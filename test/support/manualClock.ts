import type { Clock, TimerHandle } from '../../src/util/clock.js'

export type ManualClock = Clock & {
  /** Moves time forward by `ms`, running every timer that falls due on the way, in order, letting promises settle after each. */
  advance(ms: number): Promise<void>
  /** Timers scheduled and not yet run or cleared. */
  readonly pending: number
}

/**
 * A clock that moves only when the test says so, independent of the global timers (fake or real):
 * what runs on it proves a component uses its injected clock, not `setTimeout`.
 */
export function createManualClock(start = 1_000_000): ManualClock {
  let now = start
  let nextId = 1
  const timers = new Map<number, { at: number; fn: () => void }>()
  // Microtask turns, not setImmediate: the global timers may be fake, and this clock must not need them.
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve()
  }
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++
      timers.set(id, { at: now + Math.max(0, ms), fn })
      return id as unknown as TimerHandle
    },
    clearTimeout(handle) {
      timers.delete(handle as unknown as number)
    },
    get pending() {
      return timers.size
    },
    async advance(ms) {
      const end = now + ms
      for (;;) {
        await settle()
        let due: [number, { at: number; fn: () => void }] | undefined
        for (const entry of timers) if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry
        if (due === undefined) break
        timers.delete(due[0])
        now = due[1].at
        due[1].fn()
      }
      now = end
      await settle()
    },
  }
}
