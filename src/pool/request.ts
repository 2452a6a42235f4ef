import { duration } from '../config/validate.js'
import type { ResilientRpcError } from '../errors/base.js'
import { isResilientRpcError } from '../errors/guard.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { AbortedError, TimeoutError } from '../errors/request.js'
import { startRequestSpan } from '../observability/tracing.js'
import { isIdempotentRead } from '../policy/methods.js'
import { waitAtMost } from '../policy/timeout.js'
import { isQuantity, toQuantity } from '../util/hex.js'
import { AnswerCache } from './cache.js'
import { newCall, type Call, type RequestOptions } from './call.js'
import { distrusted, notServing, referenceHead, type PoolCore } from './core.js'
import { finalError } from './finalError.js'
import { Flights } from './flights.js'
import type { ReadFloor } from './floor.js'
import type { QuorumReads } from './quorumRequest.js'
import type { Retries } from './retry.js'

/**
 * A request around its retry loop: validation and one deadline, the answer cache and the chain-id
 * shortcut, sharing of identical reads in flight, the tracing span, the monotonic head, and the one
 * typed error it settles with.
 */
export class Requester {
  readonly #core: PoolCore
  readonly #retries: Retries
  readonly #quorum: QuorumReads
  /** Upstream requests and their callers (de-duplication). */
  readonly #flights: Flights<Call>
  readonly #cache: AnswerCache | undefined
  /** No latest read below it; `eth_blockNumber` answers never below it either (they never go backwards). */
  readonly #floor: ReadFloor

  constructor(core: PoolCore, retries: Retries, quorum: QuorumReads, floor: ReadFloor) {
    this.#core = core
    this.#retries = retries
    this.#quorum = quorum
    this.#floor = floor
    this.#flights = new Flights<Call>(core.active)
    if (core.options.cache) this.#cache = new AnswerCache(core.options.cache)
  }

  request<T>(method: string, params?: readonly unknown[], options?: RequestOptions): Promise<T> {
    const { events, clock } = this.#core
    // Timed only while someone listens (metrics): an unobserved pool pays one listener count per request.
    if (events.listenerCount('request:done') === 0) return this.#request<T>(method, params, options)
    const start = clock.now()
    const done = (error?: ResilientRpcError) => events.emit('request:done', { method, duration: clock.now() - start, ...(error ? { error } : {}) })
    return this.#request<T>(method, params, options).then(
      (value) => (done(), value),
      (error: ResilientRpcError) => (done(error), Promise.reject(error)),
    )
  }

  /**
   * The reference head went down (a reorg, or a head one endpoint alone had claimed): answers above it
   * were wrong or are gone, and what was final may not be any more.
   */
  lowered(to: bigint): void {
    this.#floor.lower(to)
    this.#cache?.clear()
  }

  async #request<T>(method: string, params: readonly unknown[] = [], options: RequestOptions = {}): Promise<T> {
    const core = this.#core
    const refused = notServing(core)
    if (refused) throw refused
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'expected an object')
    const call = newCall(core.options, method, params, options)
    const timeout = duration('timeout', options.timeout, core.options.defaultTimeout, false, true)
    call.deadlineAt = core.clock.now() + timeout
    if (options.signal?.aborted) throw new AbortedError({ cause: options.signal.reason })
    if (options.quorum !== undefined && options.quorum !== 1) return this.#quorum.read(call, options.quorum, timeout, options.signal) as Promise<T>
    // A quorum read pins itself (to the floor); any other read of the latest state keeps to the floor here.
    const floor = (call.floor = this.#floor.rule(call))
    if (floor !== undefined) call.target = floor.target
    const span = (call.span = startRequestSpan(core.options.tracer, method))
    const cacheKey = this.#cache && isIdempotentRead(method) ? `${method}|${call.paramsJson}` : undefined
    if (cacheKey !== undefined) {
      const chainId = core.health?.chainId
      if (method === 'eth_chainId' && chainId !== undefined) {
        span?.end(undefined, 0, { 'resilient_rpc.cache': true })
        return toQuantity(chainId) as T
      }
      const cached = this.#cache!.get(cacheKey)
      if (cached) {
        span?.end(undefined, 0, { 'resilient_rpc.cache': true })
        return cached.value as T
      }
    }
    const shareable = core.options.dedupe && isIdempotentRead(method)
    const flight = this.#flights.board(shareable ? this.#flightKey(call) : undefined, call, (signal) => this.#retries.run(call, signal))
    let leaving: ResilientRpcError | undefined
    try {
      // The caller's deadline and signal bound the caller's wait; the flight lives while anyone waits for it.
      const result = await waitAtMost(flight.promise, {
        timeout,
        signal: options.signal,
        clock: core.timers,
        onTimeout: () => new TimeoutError('request', timeout),
      })
      if (cacheKey !== undefined) this.#cache!.offer(cacheKey, method, call.target, result, referenceHead(core))
      // A caller that joined another's flight gets a span without children: the attempts are the other's.
      span?.end(undefined, flight.call.tried.length, flight.call === call ? undefined : { 'resilient_rpc.shared': true })
      return (method === 'eth_blockNumber' ? this.#monotonicHead(result) : result) as T
    } catch (error) {
      if (!flight.settled) leaving = options.signal?.aborted ? new AbortedError({ cause: options.signal.reason }) : isResilientRpcError(error) ? error : new AbortedError({ cause: error })
      const final = finalError(error, flight.call, options.signal, core.clock.now(), core)
      span?.end(final, flight.call.tried.length, flight.call === call ? undefined : { 'resilient_rpc.shared': true })
      if (final.code !== 'ABORTED') core.events.emit('request:error', { method, error: final })
      throw final
    } finally {
      this.#flights.leave(flight, leaving)
    }
  }

  /** Identical idempotent reads share a flight: same method and params, and for latest reads the same head. */
  #flightKey(call: Call): string {
    const head = call.target.kind === 'latest' || call.target.kind === 'atLeast' ? String(referenceHead(this.#core) ?? '') : ''
    return `${call.method}|${call.paramsJson}|${head}`
  }

  /**
   * `eth_blockNumber` never goes backwards through the pool, whichever endpoint answers, nor below the
   * read floor (a reorg lowers both); what it returns raises the floor.
   */
  #monotonicHead(result: unknown): unknown {
    if (!isQuantity(result)) return result
    const head = BigInt(result)
    const floor = this.#floor.value
    // A head far above the reference one that a majority could outvote (`ahead`) is one endpoint's
    // word: returning it would raise the floor to a block nobody else may ever have.
    const trusted = distrusted(this.#core, head) ? undefined : head
    if (trusted === undefined || (floor !== undefined && trusted < floor)) {
      const fallback = floor ?? referenceHead(this.#core)
      return fallback === undefined ? result : toQuantity(fallback)
    }
    this.#floor.raise(trusted)
    return result
  }
}
