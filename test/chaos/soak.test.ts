import { expect, it } from 'vitest'
import { runSoak } from './soak.js'

// The short soak in CI (`npm run soak` is the long one): rolling faults against one pool, nothing lost, heap bounded.
it('soak, short: rolling faults for 40 s lose no request and no event, and the heap stays flat', { timeout: 90_000 }, async () => {
  const seed = Number(process.env.SOAK_SEED ?? 7)
  const result = await runSoak({ durationMs: 40_000, reportEvery: 10_000, faultEvery: 5_000, maxHeapGrowth: 12 * 2 ** 20, seed })
  expect(result.reports.length).toBeGreaterThanOrEqual(3)
  expect(result.ok).toBeGreaterThan(500)
  expect(result.lost).toBe(0)
  expect(result.eventsLost).toBe(0)
  expect(result.problems).toEqual([])
})
