import type { ResilientRpcError } from '../errors/base.js'
import { nullWhenMissing } from '../balancer/blockTarget.js'
import { classifyError, lacksBlock } from '../errors/classify.js'
import { situationOf } from '../errors/situation.js'
import { METHOD_UNSUPPORTED_FOR } from '../config/defaults.js'
import { EndpointLaggingError, NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import { TimeoutError } from '../errors/request.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import { HEDGE_LOST } from '../policy/hedge.js'
import { withTimeout } from '../policy/timeout.js'
import { answerBlock } from '../balancer/answerBlock.js'
import type { Call } from './call.js'
import { distrusted, referenceHead, type PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'
import { pinnedParams, type ReadFloor } from './floor.js'
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
  readonly #floor: ReadFloor

  constructor(core: PoolCore, dispatcher: Dispatcher, statuses: Statuses, floor: ReadFloor) {
    this.#core = core
    this.#dispatcher = dispatcher
    this.#statuses = statuses
    this.#floor = floor
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
    // Held to the pool's read floor: asked at the floor's block where the endpoint may be behind it.
    const pinned = call.floor === undefined ? undefined : pinnedParams(call, call.floor, endpoint, distrusted(this.#core, endpoint.view.head))
    // The block the endpoint is asked about, if the request names one: it may answer that it lacks it.
    const asked = pinned !== undefined ? call.floor!.floor : call.target.kind === 'number' ? call.target.block : undefined
    try {
      const params = pinned ?? call.params
      const paramsJson = pinned === undefined ? call.paramsJson : JSON.stringify(pinned)
      const result = await withTimeout((s) => endpoint.transport.request(call.method, params, { signal: s, paramsJson }), {
        timeout: call.attemptTimeout,
        signal,
        clock: timers,
        controller,
        onTimeout: () => new TimeoutError('attempt', call.attemptTimeout, { endpoint: endpoint.id }),
      })
      const now = clock.now()
      endpoint.recordSuccess(now - start, now)
      // A `null` (no such block, receipt, transaction) from an endpoint behind the head may only mean it
      // has not seen it yet: ask one that has. From an endpoint at the head, `null` is the answer.
      if (result === null) {
        const distance = endpoint.distance(referenceHead(this.#core))
        if (distance < 0n) throw new EndpointLaggingError(distance, `Endpoint answered null while ${-distance} blocks behind the reference head`, { endpoint: endpoint.id })
        // A block lookup by number is `null` only for a block the endpoint does not have, whatever the
        // pool believes its head to be (the heartbeat's news of it may be old): another one may have it.
        if (asked !== undefined && nullWhenMissing(call.method)) {
          throw new EndpointLaggingError(distance, `Endpoint answered null for block ${asked}: it does not have that block`, { endpoint: endpoint.id })
        }
      } else {
        this.#learn(endpoint, call, pinned === undefined ? undefined : call.floor!.floor, result)
      }
      span?.end()
      return result
    } catch (thrown) {
      failed = true
      const error = attemptError(thrown, endpoint)
      const now = clock.now()
      call.attempts.push({ endpoint: endpoint.id, error, duration: now - start })
      call.failedOn = { endpoint, generation }
      // Losing a hedged race is no failure, but it is news of slowness.
      if (error.details === HEDGE_LOST) endpoint.recordLostRace(now - start)
      endpoint.recordError(classifyError(error, { method: call.method }).verdict, error, now, start, generation)
      // Timed out, and the endpoint has answered nothing since this attempt went out (on the connection
      // it still has): what a failed ping says, after longer. A hung endpoint is then down within
      // seconds of swallowing requests, not heartbeats later, and retries wait for a live one.
      if (error instanceof TimeoutError && error.scope === 'attempt' && endpoint.view.answeredAt < start && endpoint.view.generation === generation) {
        this.#core.health?.unresponsive(endpoint, error)
      }
      // It does not serve the method: asked for it only after the others for a while (see Retries).
      if (situationOf(error) === 'method-unsupported') endpoint.lacksMethod(call.method, now + METHOD_UNSUPPORTED_FOR)
      // It said so itself: this call does not ask it again (see Retries for when nobody has the block).
      if (asked !== undefined && lacksBlock(error)) {
        (call.lacking ??= new Set()).add(endpoint.index)
        endpoint.lacks(asked)
      }
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

  /**
   * What an answer shows of the endpoint's head: a block it returned, or the block a read was pinned
   * to, is a block it has. Fresher news than the last heartbeat: the reference head (and with it every
   * endpoint's status, a lagging one's included) follows at once.
   */
  #learn(endpoint: Endpoint, call: Call, pinnedTo: bigint | undefined, result: unknown): void {
    let block = answerBlock(call.method, result)
    const read = pinnedTo ?? (call.target.kind === 'number' ? call.target.block : undefined)
    if (read !== undefined) {
      if (block === undefined || read > block) block = read
      this.#floor.raise(read)
    }
    if (block !== undefined) this.#statuses.sawHead(endpoint, block)
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
