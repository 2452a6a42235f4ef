import { pinBlock } from '../balancer/blockTarget.js'
import { isResilientRpcError } from '../errors/guard.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { AbortedError, TimeoutError } from '../errors/request.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import { isIdempotentRead } from '../policy/methods.js'
import { show } from '../util/show.js'
import { attemptError, type Attempts } from './attempt.js'
import { newCall, type Call } from './call.js'
import { referenceHead, type PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'
import type { ReadFloor } from './floor.js'
import { quorumRead, type AskOutcome, type QuorumHost } from './quorum.js'

/**
 * A quorum read (see quorum.ts) inside the pool: validated, pinned to one block when it reads the
 * latest state, run under the request's deadline and signal; the asks are single attempts on
 * distinct endpoints, through the same dispatcher (limits, waiting) as any attempt.
 */
export class QuorumReads {
  readonly #core: PoolCore
  readonly #dispatcher: Dispatcher
  readonly #attempts: Attempts
  /** Reads the chain's head through the pool, when the pool does not know it yet. */
  readonly #head: (signal: AbortSignal, timeout: number) => Promise<bigint>
  readonly #floor: ReadFloor

  constructor(core: PoolCore, dispatcher: Dispatcher, attempts: Attempts, head: (signal: AbortSignal, timeout: number) => Promise<bigint>, floor: ReadFloor) {
    this.#core = core
    this.#dispatcher = dispatcher
    this.#attempts = attempts
    this.#head = head
    this.#floor = floor
  }

  async read(call: Call, quorum: number, timeout: number, callerSignal: AbortSignal | undefined): Promise<unknown> {
    const core = this.#core
    const n = core.endpoints.length
    if (!Number.isInteger(quorum) || quorum < 1 || quorum > n) throw new InvalidOptionError('quorum', `expected an integer from 1 to ${n} (the number of endpoints), got ${show(quorum)}`)
    if (!isIdempotentRead(call.method)) throw new InvalidOptionError('quorum', `only idempotent reads can be asked of several endpoints, not ${call.method}`)
    const { clock } = core
    // Not withTimeout: its race would reject with the bare TimeoutError, and a quorum read that times
    // out should still say what it heard; quorumRead itself settles as soon as the signal aborts.
    const controller = new AbortController()
    const signal = controller.signal
    const timer = timeout === Infinity ? undefined : clock.setTimeout(() => controller.abort(new TimeoutError('request', timeout)), timeout)
    const onCallerAbort = () => controller.abort(callerSignal!.reason)
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true })
    core.active.add(controller)
    try {
      let params = call.params
      if (call.target.kind === 'latest') {
        // Honest endpoints agree only about one state: pin the read to the block the pool trusts — its
        // read floor (confirmed, and no lower than what it served), else the reference head.
        const head = this.#floor.value ?? referenceHead(core) ?? (await this.#head(signal, timeout))
        const pinned = pinBlock(call.method, params, head)
        if (pinned !== undefined) {
          params = pinned
          this.#floor.raise(head)
        }
      }
      return await quorumRead(this.#host(call, params), quorum, signal)
    } catch (error) {
      if (callerSignal?.aborted) throw new AbortedError({ cause: callerSignal.reason })
      // The deadline passed while the block was being pinned: say so, not that the pin was aborted.
      if (isResilientRpcError(error, 'ABORTED') && isResilientRpcError(signal.reason, 'TIMEOUT')) throw signal.reason
      throw error
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer)
      callerSignal?.removeEventListener('abort', onCallerAbort)
      core.active.delete(controller)
    }
  }

  #host(call: Call, params: readonly unknown[]): QuorumHost {
    const core = this.#core
    const { clock, retryBudget } = core
    return {
      clock,
      ask: async (asked, askSignal): Promise<AskOutcome> => {
        const one = newCall(core.options, call.method, params, { attemptTimeout: call.attemptTimeout, retries: 0 })
        one.avoid = asked
        let endpoint: Endpoint
        try {
          endpoint = await this.#dispatcher.acquire(one, askSignal)
        } catch (error) {
          // A full queue is an answer of sorts (listed with the failures); an abort ends the ask.
          if (askSignal.aborted || !isResilientRpcError(error)) throw error
          return { endpoint: '(none)', error }
        }
        try {
          return { endpoint: endpoint.id, result: await this.#attempts.run(endpoint, one, askSignal) }
        } catch (error) {
          return { endpoint: endpoint.id, error: attemptError(error, endpoint) }
        }
      },
      // Down and quarantined endpoints are not waited for: the read fails once nobody else is left to ask.
      askable: (asked) => core.views.filter((v) => !asked.has(v.index) && v.health !== 'quarantined' && v.health !== 'down').length,
      first: () => retryBudget?.recordFirst(clock.now()),
      extra: () => retryBudget?.trySpend(clock.now()) !== false,
    }
  }
}
