import { describe, expect, it } from 'vitest'
import { backoffSchedule, scheduledDelay, type BackoffShape } from '../../src/util/backoffSchedule.js'

// The back-off of a p-retry loop (WebSocket reconnects, the watcher's retries): p-retry's own settings,
// one jitter draw per run.

const POLICY: BackoffShape = { initial: 250, max: 30_000, factor: 2, jitter: 0.5 }

/** The waits of reconnects 1…n of one run, for a given jitter draw. */
const waits = (policy: BackoffShape, draw: number, n: number) => {
  const schedule = backoffSchedule(policy, () => draw)
  return Array.from({ length: n }, (_, k) => scheduledDelay(schedule, k))
}

describe('backoffSchedule and scheduledDelay', () => {
  it.each([
    [0, [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]],
    [0.5, [188, 375, 750, 1_500, 3_000, 6_000, 12_000, 22_500, 22_500]],
    [0.8, [150, 300, 600, 1_200, 2_400, 4_800, 9_600, 18_000, 18_000]],
  ])('one draw (%s) scales a whole run, cap included: exponential, capped, within [d × (1 − jitter), d]', (draw, expected) => {
    expect(waits(POLICY, draw, 9)).toEqual(expected)
  })

  it('without jitter the draw changes nothing; with initial 0 nothing is ever waited, however long the run', () => {
    expect(waits({ ...POLICY, jitter: 0 }, 0.7, 3)).toEqual([250, 500, 1_000])
    const none = backoffSchedule({ ...POLICY, initial: 0 }, () => 0.3)
    expect([0, 1, 5_000].map((k) => scheduledDelay(none, k))).toEqual([0, 0, 0])
  })
})

