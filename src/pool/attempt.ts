import type { ResilientRpcError } from '../errors/base.js'
import { classifyError } from '../errors/classify.js'
import { EndpointLaggingError, NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import { TimeoutError } from '../errors/request.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import { HEDGE_LOST } from '../policy/hedge.js'
import { withTimeout } from '../policy/timeout.js'
import { isQuantity } from '../util/hex.js'
import type { Call } from './call.js'
import { referenceHead, type PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'
import type { Statuses } from './statuses.js'

/**
 * One attempt: one endpoint (already reserved by the dispatcher), one attempt timeout, the outcome
 * recorded on the endpoint, the slot given back. The attempt's timer is on the pool's timer wheel
 * and its signal aborts the transport's request itself.
 */
export class Attempts {
  readonly #core: PoolCore
  readonly #dispatcher: Dispatcher
  readonly #statuses: Statuses

  constructor(core: PoolCore, dispatcher: Dispatcher, statuses: Statuses) {
    this.#core = core
    this.#dispatcher = dispatcher
    this.#statuses = statuses
  }

  /** `controller`: the attempt's own (a hedged race aborts its loser through it); `hedge`: it is the race's second runner. */
  async run(endpoint: Endpoint, call: Call, signal: AbortSignal, controller?: AbortController, hedge = false): Promise<unknown> {
    const { clock, timers } = this.#core
    // Reserved by the dispatcher. A half-open breaker lets one request through; its outcome decides whether it closes.
    const { trial } = call
    const start = clock.now()
    const { generation } = endpoint.view
    const running = { endpoint, start }
    call.running.push(running)
    // `retry`: how many of this request's attempts had failed before this one started.
    const span = call.span?.attempt(endpoint.id, call.attempts.length, hedge)
    let failed = false
    try {
      const result = await withTimeout((s) => endpoint.transport.request(call.method, call.params, { signal: s, paramsJson: call.paramsJson }), {
        timeout: call.attemptTimeout,
        signal,
        clock: timers,
        controller,
        onTimeout: () => new TimeoutError('attempt', call.attemptTimeout, { endpoint: endpoint.id }),
      })
      endpoint.recordSuccess(clock.now() - start)
      // An endpoint's own answer is fresher news of its head than the last heartbeat.
      if (call.method === 'eth_blockNumber' && isQuantity(result)) endpoint.sawHead(BigInt(result))
      // A `null` (no such block, receipt, transaction) from an endpoint behind the head may only mean it
      // has not seen it yet: ask one that has. From an endpoint at the head, `null` is the answer.
      if (result === null) {
        const distance = endpoint.distance(referenceHead(this.#core))
        if (distance < 0n) throw new EndpointLaggingError(distance, `Endpoint answered null while ${-distance} blocks behind the reference head`, { endpoint: endpoint.id })
      }
      span?.end()
      return result
    } catch (thrown) {
      failed = true
      const error = attemptError(thrown, endpoint)
      const now = clock.now()
      call.attempts.push({ endpoint: endpoint.id, error, duration: now - start })
      // Losing a hedged race is no failure, but it is news of slowness.
      if (error.details === HEDGE_LOST) endpoint.recordLostRace(now - start)
      endpoint.recordError(classifyError(error, { method: call.method }).verdict, error, now, start, generation)
      span?.end(error)
      throw error
    } finally {
      const i = call.running.lastIndexOf(running)
      if (i === call.running.length - 1) call.running.pop()
      else call.running.splice(i, 1)
      endpoint.release(trial)
      // A failure may have restricted the endpoint (statuses and events to update); a success changes
      // no status, but a freed slot may let a waiting request through.
      if (failed) this.#statuses.sync()
      else this.#dispatcher.notify()
    }
  }
}

/**
 * Names what ended an attempt. Aborts carry their reason in: a caller's abort or a lost hedge is an
 * `AbortedError` (neutral), a passed deadline a `TimeoutError` (the endpoint's failure).
 */
export function attemptError(thrown: unknown, endpoint: Endpoint): ResilientRpcError {
  if (isResilientRpcError(thrown)) return thrown
  return new NetworkError({ cause: thrown, endpoint: endpoint.id })
}
