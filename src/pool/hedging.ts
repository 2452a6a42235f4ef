import type { Endpoint } from '../endpoint/endpoint.js'
import { HedgeBudget, hedgeDelay, raceWithHedge } from '../policy/hedge.js'
import { isIdempotentRead } from '../policy/methods.js'
import type { HedgeOptions } from '../config/policyOptions.js'
import type { Attempts } from './attempt.js'
import type { Call } from './call.js'
import type { PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'

/**
 * Hedged reads: one attempt that may become two. If `first` has not answered after the hedge delay
 * (its recent p95), the same request also goes to another endpoint, within the hedge budget. With the
 * budget spent, a read whose first attempt would outlive half the time left to its deadline gets one
 * rescue hedge then, within the retry budget only: without it, an attempt stuck on a hanging endpoint
 * takes the request down with it whenever the deadline is shorter than the attempt timeout.
 */
export class Hedging {
  readonly #core: PoolCore
  readonly #dispatcher: Dispatcher
  readonly #attempts: Attempts
  readonly #options: Required<HedgeOptions>
  readonly #budget: HedgeBudget

  constructor(core: PoolCore, dispatcher: Dispatcher, attempts: Attempts, options: Required<HedgeOptions>) {
    this.#core = core
    this.#dispatcher = dispatcher
    this.#attempts = attempts
    this.#options = options
    this.#budget = new HedgeBudget(options.budget)
  }

  /** Writes are never hedged: only reads whose answer does not depend on how often they are asked. */
  applies(call: Call): boolean {
    return isIdempotentRead(call.method)
  }

  run(first: Endpoint, call: Call, signal: AbortSignal): Promise<unknown> {
    const budget = this.#budget
    const { clock, timers, retryBudget, events } = this.#core
    budget.earn()
    const delay = hedgeDelay(first.view.samples.recentP95(), this.#options)
    const started = clock.now()
    const left = call.deadlineAt - started
    const rescueAt = Number.isFinite(left) && left / 2 < call.attemptTimeout ? left / 2 : undefined
    return raceWithHedge(
      (controller) => this.#attempts.run(first, call, signal, controller),
      (rescue) => {
        // A hedge is an extra attempt: it needs room in the pool's retry budget, and (unless it is the
        // deadline's rescue) the hedge budget's token.
        const now = clock.now()
        const allowed = (rescue || budget.available()) && retryBudget?.available(now) !== false
        const second = allowed ? this.#dispatcher.tryAcquire(call, first) : undefined
        if (!second) return undefined
        if (!rescue) budget.spend()
        retryBudget?.trySpend(now)
        events.emit('request:hedge', { method: call.method, endpoint: first.id, hedge: second.id, delay: now - started })
        return (controller) => this.#attempts.run(second, call, signal, controller, true)
      },
      { delay, rescueAt, signal, clock: timers },
    )
  }
}
