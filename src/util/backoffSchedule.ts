/** A back-off as options give it: the first wait (ms), its growth per retry, its cap (ms), and the share randomised (0..1). */
export type BackoffShape = { initial: number; max: number; factor: number; jitter: number }

/** p-retry's settings for one run of a loop it drives and waits (its `randomize` stays off). */
export type BackoffSchedule = { minTimeout: number; maxTimeout: number; factor: number; randomize: false }

/**
 * The back-off of one run of a p-retry loop. Jitter is one draw per run: `scale`, in `[1 − jitter, 1]`,
 * shrinks the whole exponential schedule, so retry n waits `scale × min(initial × factorⁿ⁻¹, max)` —
 * within `[d·(1−jitter), d]` like every back-off of the library. Clients that failed together each
 * draw their own scale: their retries spread evenly and, each with its own period once capped, never
 * fall back into step. A draw per run rather than per wait keeps each wait a pure function of p-retry's
 * own settings, so it can be stated exactly (p-retry's `randomize` draws every wait in private, and
 * only upwards).
 */
export function backoffSchedule(backoff: BackoffShape, random: () => number): BackoffSchedule {
  const scale = 1 - backoff.jitter * random()
  return { minTimeout: backoff.initial * scale, maxTimeout: Math.round(backoff.max * scale), factor: backoff.factor, randomize: false }
}

/** What p-retry waits before its retry number `retriesConsumed + 1`: `minTimeout × factor^retriesConsumed`, capped at `maxTimeout`, in whole ms. */
export function scheduledDelay(schedule: BackoffSchedule, retriesConsumed: number): number {
  // No wait at all, even once factorⁿ overflows (0 × Infinity would be NaN).
  if (schedule.minTimeout === 0) return 0
  return Math.min(Math.round(schedule.minTimeout * schedule.factor ** retriesConsumed), schedule.maxTimeout)
}
