import type { RateLimitOptions } from '../config/policyOptions.js'


/** An endpoint's request budget now, as `stats()` shows it. */
export type RateBudget = Readonly<{
  /** Requests per second allowed now: the configured rate, or lower after a 429. */
  perSecond: number
  burst: number
  /** Whole tokens available now. */
  tokens: number
  /** The rate configured with `rateLimit`, `undefined` when the limit was only learned from 429s. */
  configured: number | undefined
  /** Whether a 429 lowered the rate and it is still recovering. */
  lowered: boolean
}>

/** Lowest rate a 429 can lower an endpoint to (requests/s): it must stay usable. */
export const RATE_FLOOR = 1
/** Additive recovery after a 429, per second, as a share of the rate to recover to: half to full in 10 s. */
const RECOVERY_PER_SECOND = 0.05
// Fractional tokens: a wake-up timer rounded to whole ms must find its token there.
const EPSILON = 1e-9

type Lowered = { at: number; rate: number; ceiling: number }

/**
 * A token bucket per endpoint whose rate is learned from 429s (AIMD): a 429 halves the rate (never
 * below `RATE_FLOOR`), which then recovers additively to the configured rate. An endpoint without a
 * configured rate is unlimited until a 429: it then gets half the rate it was sent when the 429 came,
 * and is unlimited again once that has recovered. Pure: every method takes the clock time.
 *
 * Heartbeats take their token with priority (`take(now, true)`): when none is there, the next one is
 * reserved for them, so a saturated endpoint's heartbeat waits at most one token interval and
 * requests never push the endpoint past its rate.
 */
export class RateLimiter {
  readonly #configured: Required<RateLimitOptions> | undefined
  #lowered: Lowered | undefined
  #tokens: number
  #updatedAt: number
  #reserved = false
  // Requests sent in the current and the previous second, to estimate the rate a 429 answered.
  #windowStart: number
  #thisSecond = 0
  #lastSecond = 0

  constructor(options: RateLimitOptions | undefined, now: number) {
    this.#configured = options === undefined ? undefined : { perSecond: options.perSecond, burst: options.burst ?? Math.max(1, options.perSecond) }
    this.#tokens = this.#configured?.burst ?? 0
    this.#updatedAt = now
    this.#windowStart = now
  }

  /** Requests per second allowed at `now`, `undefined` while unlimited. */
  rate(now: number): number | undefined {
    const lowered = this.#lowered
    if (lowered === undefined) return this.#configured?.perSecond
    const recovered = lowered.rate + lowered.ceiling * RECOVERY_PER_SECOND * (Math.max(0, now - lowered.at) / 1000)
    return Math.min(lowered.ceiling, recovered)
  }

  #burst(rate: number): number {
    const c = this.#configured
    // A lowered rate gets a proportionally smaller burst: a burst is what drew the 429 in the first place.
    return Math.max(1, c === undefined ? rate : (c.burst * rate) / c.perSecond)
  }

  /**
   * Nothing configured and no 429 seen: no bucket to keep up to date (asked on every pick, for every
   * endpoint). A first 429 starts from `rateLimited`, which brings the bucket up to its own time.
   */
  #unlimited(): boolean {
    return this.#configured === undefined && this.#lowered === undefined
  }

  /** Brings tokens and the recovery up to `now`. */
  #advance(now: number): void {
    if (this.#lowered !== undefined && this.rate(now)! >= this.#lowered.ceiling) this.#lowered = undefined
    // The rate at the last update, not now: while recovering that under-fills slightly, never over.
    const rate = this.rate(this.#updatedAt)
    const elapsed = Math.max(0, now - this.#updatedAt)
    this.#updatedAt = Math.max(now, this.#updatedAt)
    const current = this.rate(now)
    if (rate === undefined || current === undefined) return
    this.#tokens = Math.min(this.#burst(current), this.#tokens + (rate * elapsed) / 1000)
  }

  #count(now: number): void {
    const elapsed = now - this.#windowStart
    if (elapsed >= 1000) {
      this.#lastSecond = elapsed >= 2000 ? 0 : this.#thisSecond
      this.#thisSecond = 0
      this.#windowStart = now - (elapsed % 1000)
    }
    this.#thisSecond++
  }

  /** Requests sent over the last second (sliding estimate). */
  #observed(now: number): number {
    const elapsed = now - this.#windowStart
    if (elapsed >= 2000) return 0
    if (elapsed >= 1000) return this.#thisSecond * (1 - (elapsed - 1000) / 1000)
    return this.#thisSecond + this.#lastSecond * (1 - elapsed / 1000)
  }

  /**
   * When (clock ms) a request could take a token: `now` or earlier if one is there. A token
   * reserved for a heartbeat is not there for requests.
   */
  nextTokenAt(now: number): number {
    if (this.#unlimited()) return now
    this.#advance(now)
    const rate = this.rate(now)
    if (rate === undefined) return now
    const need = this.#reserved ? 2 : 1
    if (this.#tokens + EPSILON >= need) return now
    return now + Math.ceil(((need - this.#tokens) * 1000) / rate)
  }

  /**
   * Takes a token if one is there. `priority` (heartbeats): when none is, the next one is reserved
   * for the caller, who should come back at `nextTokenAt`.
   */
  take(now: number, priority = false): boolean {
    if (this.#unlimited()) {
      this.#count(now)
      return true
    }
    this.#advance(now)
    if (this.rate(now) === undefined) {
      this.#count(now)
      return true
    }
    const need = this.#reserved && !priority ? 2 : 1
    if (this.#tokens + EPSILON < need) {
      if (priority) this.#reserved = true
      return false
    }
    this.#tokens = Math.max(0, this.#tokens - 1)
    if (priority) this.#reserved = false
    this.#count(now)
    return true
  }

  /** When a reserved (priority) token is due, for the heartbeat that reserved it. */
  reservedAt(now: number): number {
    this.#advance(now)
    const rate = this.rate(now)
    if (rate === undefined || this.#tokens + EPSILON >= 1) return now
    return now + Math.ceil(((1 - this.#tokens) * 1000) / rate)
  }

  /**
   * The endpoint answered 429 to a request sent at `sentAt`: halve the rate (never below
   * `RATE_FLOOR`) and empty the bucket. A 429 to a request sent before the last lowering says
   * nothing new (it was sent at the old rate) and is ignored, so one burst of 429s halves once.
   */
  rateLimited(now: number, sentAt = now): void {
    if (this.#lowered !== undefined && sentAt < this.#lowered.at) return
    this.#advance(now)
    const current = this.rate(now) ?? Math.max(RATE_FLOOR, this.#observed(now))
    const rate = Math.max(RATE_FLOOR, current / 2)
    const ceiling = Math.max(rate, this.#configured?.perSecond ?? current)
    if (rate >= ceiling) return
    this.#lowered = { at: now, rate, ceiling }
    this.#tokens = 0
    this.#updatedAt = now
  }

  /** The budget now, `undefined` while unlimited. */
  budget(now: number): RateBudget | undefined {
    this.#advance(now)
    const rate = this.rate(now)
    if (rate === undefined) return undefined
    return Object.freeze({
      perSecond: Math.round(rate * 100) / 100,
      burst: Math.round(this.#burst(rate) * 100) / 100,
      tokens: Math.floor(this.#tokens + EPSILON),
      configured: this.#configured?.perSecond,
      lowered: this.#lowered !== undefined,
    })
  }
}
