import type { EndpointExclusion, ResilientRpcError } from '../errors/base.js'
import { classifyError, lacksBlock } from '../errors/classify.js'
import { situationOf } from '../errors/situation.js'
import { BlockUnavailableError, NoHealthyEndpointError, RetryBudgetExhaustedError } from '../errors/request.js'
import { backoffDelay } from '../policy/backoff.js'
import type { Attempts } from './attempt.js'
import type { Call } from './call.js'
import type { PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'
import type { Hedging } from './hedging.js'

/**
 * The retry loop of one call: an attempt (hedged for reads), and after a retryable failure another
 * one — at once on an endpoint the call has not tried, after a back-off when it comes back to one —
 * within `retries`, the pool's retry budget and the call's signal (its deadline).
 *
 * A plain loop, not p-retry: each attempt's failure is judged by `classifyError`, every wait is on
 * the pool's timer wheel under the call's signal, and the wait is zero on failover; p-retry's own
 * delays, clock and per-call set-up (a tenth of the pool's CPU per request, measured) would fit none
 * of that. p-retry drives the background loops it fits (see docs/architecture.md).
 */
export class Retries {
  readonly #core: PoolCore
  readonly #dispatcher: Dispatcher
  readonly #attempts: Attempts
  readonly #hedging: Hedging | undefined

  constructor(core: PoolCore, dispatcher: Dispatcher, attempts: Attempts, hedging: Hedging | undefined) {
    this.#core = core
    this.#dispatcher = dispatcher
    this.#attempts = attempts
    this.#hedging = hedging
  }

  async run(call: Call, signal: AbortSignal): Promise<unknown> {
    const { clock, retryBudget, options, events } = this.#core
    retryBudget?.recordFirst(clock.now())
    // No endpoint's `methods` option takes the method: nothing will change that, so no wait for it.
    const refused = this.#dispatcher.noneConfiguredFor(call)
    if (refused !== undefined) throw new NoHealthyEndpointError(refused)
    for (let attempt = 1; ; attempt++) {
      try {
        signal.throwIfAborted()
        const endpoint = this.#dispatcher.pickNow(call) ?? (await this.#dispatcher.acquire(call, signal))
        return await (this.#hedging?.applies(call) ? this.#hedging.run(endpoint, call, signal) : this.#attempts.run(endpoint, call, signal))
      } catch (error) {
        // An endpoint without the block the call is pinned to: another one is asked (it is no longer
        // picked, see Dispatcher), until none is left that could be.
        const elsewhere = call.lacking !== undefined && !signal.aborted && lacksBlock(error)
        if (elsewhere && (attempt > call.retries || !this.#dispatcher.hasOther(call)) && call.attempts.every((a) => lacksBlock(a.error))) return this.#missingEverywhere(call)
        // An endpoint that does not serve the method: another one that may is asked, at once and
        // uncharged (routing, once per endpoint); when none is left, the caller gets the node's answer.
        const otherServer = !signal.aborted && situationOf(error) === 'method-unsupported' && this.#dispatcher.hasServer(call)
        if (!otherServer && (attempt > call.retries || signal.aborted || !classifyError(error, { method: call.method }).retryable)) throw error
        if (this.#charged(call, elsewhere || otherServer) && retryBudget?.trySpend(clock.now()) === false) throw new RetryBudgetExhaustedError({ cause: error, attempts: [...call.attempts] })
        // Failing over to an endpoint this call has not tried needs no back-off; coming back to one does
        // (cut short once none could take the call: it then waits for one to come back).
        const delay = this.#dispatcher.hasUntried(call) ? 0 : backoffDelay(call.backoffs++, options.backoff, options.random)
        events.emit('request:retry', { method: call.method, attempt, endpoint: call.attempts.at(-1)?.endpoint ?? '', error: error as ResilientRpcError, delay })
        if (delay > 0) await this.#dispatcher.backOff(call, delay, signal)
      }
    }
  }

  /**
   * Whether a retry counts against the budget, which bounds the extra load retries put on endpoints.
   * Not charged: asking elsewhere for a block or a method (routing: each endpoint is asked once per call for it);
   * a retry away from an endpoint out of rotation since the failed attempt went out (down, breaker
   * open, or down and back since: a new generation), which takes that attempt's place rather than
   * adding to the fleet's load; a retry that no endpoint can take now (an outage), which waits for one
   * like a new request. So what an outage caught in flight is served when an endpoint comes back, and
   * a fleet that is up but failing still sees only the budget's retries.
   */
  #charged(call: Call, routing: boolean): boolean {
    if (routing) return false
    if (call.failedOn !== undefined) {
      const { health, breaker, generation } = call.failedOn.endpoint.view
      if (health !== 'up' || breaker === 'open' || generation !== call.failedOn.generation) return false
    }
    return this.#dispatcher.hasTaker(call)
  }

  /**
   * Every endpoint asked lacks the call's block and nobody else can be asked: a block lookup that some
   * endpoint answered `null` resolves `null` (the chain's answer for a block not there yet); anything
   * else is `BLOCK_UNAVAILABLE`, with what each endpoint said and why the others were out.
   */
  #missingEverywhere(call: Call): null {
    if (call.attempts.some((a) => a.error.code === 'LAGGING')) return null
    const block = call.target.kind === 'number' || call.target.kind === 'atLeast' ? call.target.block : -1n
    const excluded = this.#dispatcher.exclusions(this.#core.clock.now(), call).filter((e, i): e is EndpointExclusion => e !== undefined && !call.tried.includes(i))
    throw new BlockUnavailableError(block, { cause: call.attempts.at(-1)?.error, attempts: [...call.attempts], excluded })
  }
}
