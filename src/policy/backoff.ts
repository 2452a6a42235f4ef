export type BackoffOptions = {
  /** Delay before the first retry (ms). @default 100 */
  initial?: number
  /** Upper bound of any delay (ms). @default 2_000 */
  max?: number
  /** Growth per attempt. @default 2 */
  factor?: number
  /** Share of the delay that is randomised, 0..1: the delay lands in `[d·(1−jitter), d]`. @default 0.5 */
  jitter?: number
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initial: 100, max: 2_000, factor: 2, jitter: 0.5 }

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, jittered so that many clients
 * failing together do not come back in lock-step. Pure: `random` is injected.
 */
export function backoffDelay(attempt: number, options: Required<BackoffOptions> = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const { initial, max, factor, jitter } = options
  const ceiling = Math.min(max, initial * factor ** attempt)
  return Math.round(ceiling * (1 - jitter * random()))
}
