import { DEFAULT_BACKOFF } from '../config/defaults.js'
import type { BackoffOptions } from '../config/policyOptions.js'


/**
 * Delay before retry number `attempt` (0-based): exponential, capped, jittered so that many clients
 * failing together do not come back in lock-step. Pure: `random` is injected.
 */
export function backoffDelay(attempt: number, options: Required<BackoffOptions> = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const { initial, max, factor, jitter } = options
  const ceiling = Math.min(max, initial * factor ** attempt)
  return Math.round(ceiling * (1 - jitter * random()))
}
