import type { RetryBudgetOptions } from '../config/policyOptions.js'


/** The retry budget now, as `stats()` shows it. */
export type RetryBudgetStats = Readonly<{
  /** First attempts in the window. */
  firstAttempts: number
  /** Retries and hedges sent in the window. */
  spent: number
  /** Retries and hedges the window allows: `ratio × firstAttempts + minPerSecond × window / 1000`. */
  allowed: number
}>

// The window moves in tenths: a retry storm ages out within a tenth of the window of the limit.
const SLOTS = 10

/**
 * Pool-wide budget for extra attempts (retries and hedges): over a sliding window they stay within
 * `ratio` of first attempts plus a small reserve (`minPerSecond`), like Finagle's RetryBudget. Pure:
 * every method takes the clock time.
 */
export class RetryBudget {
  readonly #options: Required<RetryBudgetOptions>
  readonly #slotMs: number
  // Ring of per-slot counts; `#slotOf[i]` is which slot number entry i currently counts.
  readonly #slotOf = new Array<number>(SLOTS).fill(-Infinity)
  readonly #firsts = new Array<number>(SLOTS).fill(0)
  readonly #spent = new Array<number>(SLOTS).fill(0)

  constructor(options: Required<RetryBudgetOptions>) {
    this.#options = options
    this.#slotMs = options.window / SLOTS
  }

  #index(now: number): number {
    const slot = Math.floor(now / this.#slotMs)
    const i = ((slot % SLOTS) + SLOTS) % SLOTS
    if (this.#slotOf[i] !== slot) {
      this.#slotOf[i] = slot
      this.#firsts[i] = 0
      this.#spent[i] = 0
    }
    return i
  }

  /** Counts a request's first attempt: it earns `ratio` of a retry. */
  recordFirst(now: number): void {
    this.#firsts[this.#index(now)]!++
  }

  /** Whether one more retry or hedge fits now. */
  available(now: number): boolean {
    const s = this.stats(now)
    return s.spent + 1 <= s.allowed
  }

  /** Spends one retry or hedge if it fits; says whether it did. */
  trySpend(now: number): boolean {
    if (!this.available(now)) return false
    this.#spent[this.#index(now)]!++
    return true
  }

  stats(now: number): RetryBudgetStats {
    this.#index(now)
    const oldest = Math.floor(now / this.#slotMs) - SLOTS + 1
    let firstAttempts = 0
    let spent = 0
    for (let i = 0; i < SLOTS; i++) {
      if (this.#slotOf[i]! < oldest) continue
      firstAttempts += this.#firsts[i]!
      spent += this.#spent[i]!
    }
    const { ratio, minPerSecond, window } = this.#options
    // Floored: half a retry is no retry, and the bound must hold exactly at the proxy.
    const allowed = Math.floor(ratio * firstAttempts + (minPerSecond * window) / 1000 + 1e-9)
    return Object.freeze({ firstAttempts, spent, allowed })
  }
}
