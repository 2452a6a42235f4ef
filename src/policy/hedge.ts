

import { AbortedError } from '../errors/request.js'
import { createAbortController } from '../util/abort.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { HedgeOptions } from '../config/policyOptions.js'

/**
 * One attempt in a hedged race. It gets its own controller (which it must link to the request's signal
 * itself, e.g. through `withTimeout`'s `controller` option), so a loser can be aborted alone.
 */
export type Racer<T> = (controller: AbortController) => Promise<T>

/** `details` of the error a hedged race's loser is aborted with. */
export const HEDGE_LOST = 'hedged request answered elsewhere'

/**
 * Runs `first`; if it has not settled after `delay`, asks `hedge(false)` for a second racer (it may
 * decline: no budget, no other endpoint). If it declined and `rescueAt` (ms from the start) is later,
 * it asks again then with `hedge(true)`: a last chance before the caller's deadline, which the caller
 * may grant outside the hedge budget. The first answer wins and the other racer is aborted with a
 * neutral `AbortedError`. Rejects only when every racer started has failed — with the last error, at
 * once, without waiting for a hedge that has not started — for the retry loop to judge.
 */
export function raceWithHedge<T>(
  first: Racer<T>,
  hedge: (rescue: boolean) => Racer<T> | undefined,
  options: { delay: number; rescueAt?: number; signal: AbortSignal; clock: Clock },
): Promise<T> {
  const { delay, rescueAt, signal, clock } = options
  const after = (fn: () => void, ms: number): TimerHandle => clock.setTimeout(fn, ms)
  return new Promise((resolve, reject) => {
    const racers: AbortController[] = []
    let pending = 0
    let done = false
    let timer: TimerHandle | undefined
    const settle = () => {
      done = true
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
    }
    const race = (racer: Racer<T>) => {
      const controller = createAbortController()
      racers.push(controller)
      pending++
      racer(controller).then(
        (value) => {
          if (done) return
          settle()
          if (racers.length > 1) {
            const lost = new AbortedError({ details: HEDGE_LOST })
            for (const other of racers) if (other !== controller) other.abort(lost)
          }
          resolve(value)
        },
        (error: unknown) => {
          pending--
          if (done || pending > 0) return
          settle()
          reject(error)
        },
      )
    }
    race(first)
    timer = after(() => {
      timer = undefined
      if (done || signal.aborted) return
      const second = hedge(false)
      if (second) return race(second)
      if (rescueAt === undefined || rescueAt <= delay) return
      timer = after(() => {
        timer = undefined
        if (done || signal.aborted) return
        const rescue = hedge(true)
        if (rescue) race(rescue)
      }, rescueAt - delay)
    }, delay)
  })
}

/** How long to wait for the first attempt before hedging: the endpoint's recent p95, never below the floor. */
export function hedgeDelay(p95: number | undefined, options: Required<HedgeOptions>): number {
  if (options.delay !== 'adaptive') return options.delay
  return Math.max(options.minDelay, p95 ?? options.initialDelay)
}

/**
 * Caps hedges at `ratio` of requests: every hedgeable request earns `ratio` of a token, a hedge
 * spends one, and at most `burst` tokens are kept. A fleet that is slow everywhere is not doubled.
 */
export class HedgeBudget {
  // Whole micro-tokens: ten earnings of 0.1 must make exactly one hedge, which floats do not.
  static readonly #UNIT = 1_000_000
  #tokens: number
  readonly #earning: number
  readonly #burst: number

  constructor(ratio: number, burst = 10) {
    this.#earning = Math.round(ratio * HedgeBudget.#UNIT)
    this.#burst = burst * HedgeBudget.#UNIT
    // Start with one hedge's worth, so the first slow request of a fresh pool can be hedged.
    this.#tokens = Math.min(HedgeBudget.#UNIT, this.#burst)
  }

  earn(): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + this.#earning)
  }

  /** Whether a hedge may be sent now. */
  available(): boolean {
    return this.#tokens >= HedgeBudget.#UNIT
  }

  spend(): boolean {
    if (!this.available()) return false
    this.#tokens -= HedgeBudget.#UNIT
    return true
  }
}
