import { EventEmitter } from 'eventemitter3'
import pRetry from 'p-retry'
import { exclusionReason, headDistance, limitReason, selectEndpoint, type SelectContext } from '../balancer/select.js'
import type { BreakerState, EndpointStatus } from '../types/endpoint.js'
import { classifyError } from '../errors/classify.js'
import { AbortedError, NotReadyError, NoHealthyEndpointError, PoolDestroyedError, QueueFullError, RetriesExhaustedError, RetryBudgetExhaustedError, TimeoutError } from '../errors/request.js'
import { EndpointLaggingError, NetworkError } from '../errors/endpoint.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { Attempt, EndpointExclusion, ResilientRpcError } from '../errors/base.js'
import { blockTarget, pinBlock, type BlockTarget } from '../balancer/blockTarget.js'
import { HealthMonitor } from '../health/heartbeat.js'
import { backoffDelay } from '../policy/backoff.js'
import { LimitQueue } from '../policy/bulkhead.js'
import { HEDGE_LOST, HedgeBudget, hedgeDelay, raceWithHedge } from '../policy/hedge.js'
import { isIdempotentRead } from '../policy/methods.js'
import { attachLogger } from '../observability/logger.js'
import { startRequestSpan, type RequestSpan } from '../observability/tracing.js'
import { RetryBudget } from '../policy/retryBudget.js'
import { waitAtMost, withTimeout } from '../policy/timeout.js'
import { sleep } from '../util/sleep.js'
import { TimerWheel } from '../util/timerWheel.js'
import { Endpoint } from '../endpoint/endpoint.js'
import type { PoolEvents } from '../types/events.js'
import { snapshotEndpoint, type PoolStats } from './stats.js'
import { AnswerCache } from './cache.js'
import { Flights } from './flights.js'
import { createSubscription, type BlockHeader, type HeadsSubscribeOptions, type LogFilter, type LogsSubscribeOptions, type RpcLog, type SubscriptionHost } from '../subscriptions/subscription.js'
import type { WsTransport } from '../transport/wsOptions.js'
import { quorumRead, type AskOutcome } from './quorum.js'
import { duration } from '../config/validate.js'
import { MAX_TIMER } from '../util/clock.js'
import { resolvePoolOptions } from '../config/resolvePool.js'
import type { PoolOptions, ResolvedPoolOptions } from '../config/poolOptions.js'
import { show } from '../util/show.js'

export type RequestOptions = {
  /** Cancels the request, including the in-flight HTTP call. */
  signal?: AbortSignal
  /** Deadline across every attempt, back-off and wait for an endpoint (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  /** Time limit of each attempt (ms). @default the pool's `attemptTimeout` */
  attemptTimeout?: number
  /** Retries after the first attempt. @default the pool's `retries` */
  retries?: number
  /**
   * Quorum read (idempotent reads only): ask distinct endpoints until this many agree on the
   * normalised result (sorted keys, lower-cased hex). A read of the latest state is first pinned to
   * the reference head's block. `1` is an ordinary request. @default 1
   */
  quorum?: number
}

export type ReadyOptions = {
  /** How many endpoints must have answered a heartbeat on the right chain. @default 1 */
  minHealthy?: number
  /** How long to wait (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  signal?: AbortSignal
}

/** A pool of JSON-RPC endpoints that balances, retries, fails over and never leaves a request pending. */
export type Pool = {
  /**
   * Sends a JSON-RPC request through the pool and resolves with its `result`.
   * @throws `TIMEOUT` (deadline passed), `ABORTED` (signal), `NO_ENDPOINT` (none could take it before the
   * deadline), `RPC_ERROR` (the node's answer, e.g. a revert; never retried), `RETRIES_EXHAUSTED`,
   * `RETRY_BUDGET_EXHAUSTED` (a retry was due, the pool's retry budget is spent), `QUEUE_FULL` (every
   * endpoint at its limits and `maxQueue` requests waiting), `QUORUM_FAILED` (with `quorum`),
   * `POOL_DESTROYED`, `INVALID_OPTION`, or the fatal error of the one attempt made.
   */
  request<T = unknown>(method: string, params?: readonly unknown[], options?: RequestOptions): Promise<T>
  /**
   * Resolves once `minHealthy` endpoints have answered a heartbeat on the pool's chain.
   * @throws `NOT_READY` (listing why each endpoint is out) when `timeout` passes first, `ABORTED`, `POOL_DESTROYED`, `INVALID_OPTION`
   */
  ready(options?: ReadyOptions): Promise<void>
  /**
   * Sends the request once to every endpoint that can take it now, in parallel, without retries (a
   * broadcast). Each result settles on its own: the value, or that endpoint's typed error. Returns an
   * empty array when no endpoint can take it now.
   * @throws `POOL_DESTROYED`, `INVALID_OPTION` (synchronously)
   */
  requestEach<T = unknown>(method: string, params?: readonly unknown[], options?: RequestOptions): Array<{ endpoint: string; result: Promise<T> }>
  /**
   * Calls `listener` with each new block header, exactly once and in order, whatever happens to the
   * endpoints: over a WebSocket `eth_subscribe` when a WebSocket endpoint is up (moving to another
   * when it goes down), else by polling; missed heads are fetched after every reconnect or switch
   * (up to `maxBackfill`, else `onGap`), and heads that left the chain are reported to `onReorg`
   * before their replacements. Never throws after it returns; failures go to `onError`.
   * @returns a function that ends the subscription (idempotent)
   * @throws `POOL_DESTROYED`, `INVALID_OPTION` (synchronously)
   */
  subscribe(kind: 'newHeads', listener: (head: BlockHeader) => void, options?: HeadsSubscribeOptions): () => void
  /**
   * Calls `listener` with each log matching `filter` from the next block on, exactly once and in
   * chain order, like the `newHeads` subscription: missed logs are fetched with `eth_getLogs` from the
   * last delivered block; logs that left the chain are reported to `onRemoved`.
   */
  subscribe(kind: 'logs', filter: LogFilter, listener: (log: RpcLog) => void, options?: LogsSubscribeOptions): () => void
  /** The pool's reference head (see docs/architecture.md), `undefined` before heartbeats know it or without them. */
  referenceHead(): bigint | undefined
  /** Aborts (with `POOL_DESTROYED`) when the pool is destroyed: helpers built on the pool stop with it. */
  readonly signal: AbortSignal
  /** A frozen snapshot of the pool and every endpoint. */
  stats(): PoolStats
  /** Subscribes to a pool event (see `PoolEvents`). */
  on<E extends keyof PoolEvents>(event: E, listener: (...args: PoolEvents[E]) => void): Pool
  once<E extends keyof PoolEvents>(event: E, listener: (...args: PoolEvents[E]) => void): Pool
  off<E extends keyof PoolEvents>(event: E, listener?: (...args: PoolEvents[E]) => void): Pool
  /** Rejects every pending request with `POOL_DESTROYED` and stops every timer. Idempotent. */
  destroy(): Promise<void>
}

type Call = {
  method: string
  params: readonly unknown[]
  /** `params` serialised once, for the de-duplication key and the request body. */
  paramsJson: string
  attemptTimeout: number
  retries: number
  target: BlockTarget
  attempts: Attempt[]
  tried: number[]
  backoffs: number
  /** Attempts in flight now, with their start times: listed in the error when a deadline cuts them. */
  running: Map<Endpoint, number>
  /** Whether the current attempt is a half-open breaker's trial. */
  trial: boolean
  /** Set while the call waits for an endpoint: what kept each one out. */
  waitingOn: EndpointExclusion[] | undefined
  /** The request's span, with a `tracer` only. */
  span?: RequestSpan
  /** Clock time of the deadline of the caller who started it (shared callers keep their own). */
  deadlineAt: number
  /** Endpoints (indexes) the call must not use; each pick is added (a quorum read asks each endpoint once). */
  avoid?: Set<number>
}

/**
 * Creates a pool over `options.endpoints` and starts its heartbeats. Never throws or waits because an
 * endpoint is down, so a service can start while every endpoint is down and serve once one comes up.
 * @throws `INVALID_OPTION` for missing endpoints, a bad URL, weight <= 0, an unknown strategy, …
 * @example
 * const pool = createPool({ endpoints: ['https://a.example', { url: 'https://b.example', tier: 'backup' }] })
 * const head = await pool.request<string>('eth_blockNumber', [], { timeout: 5_000 })
 */
export function createPool(options: PoolOptions): Pool {
  return new PoolImpl(resolvePoolOptions(options))
}

class PoolImpl implements Pool {
  readonly #options: ResolvedPoolOptions
  readonly #endpoints: Endpoint[]
  readonly #records
  readonly #emitter = new EventEmitter<PoolEvents>()
  readonly #active = new Set<AbortController>()
  readonly #waiters = new Set<() => void>()
  /** Requests waiting because every endpoint that could serve them is at its limits (bounded by `maxQueue`). */
  readonly #queue: LimitQueue
  #cursor = 0
  #destroyed = false
  readonly #lifetime = new AbortController()
  /** Deadlines, attempt timeouts and hedge delays: one native timer for all of them, not up to three per request. */
  readonly #timers: TimerWheel

  readonly #health: HealthMonitor | undefined
  /** Upstream requests and their callers (de-duplication). */
  readonly #flights = new Flights<Call>(this.#active)
  readonly #hedgeBudget: HedgeBudget | undefined
  /** Retries and hedges across the pool, as a share of first attempts. */
  readonly #retryBudget: RetryBudget | undefined
  readonly #cache: AnswerCache | undefined
  /** Highest `eth_blockNumber` answer served, so answers never go backwards. */
  #servedHead: bigint | undefined
  /** Live subscriptions, by id: ended on destroy(). */
  readonly #subscriptions = new Map<number, () => void>()
  #nextSubscription = 1
  /** Told whenever an endpoint's status changes (subscriptions follow the WebSocket endpoints). */
  readonly #changeListeners = new Set<() => void>()

  constructor(options: ResolvedPoolOptions) {
    this.#options = options
    this.#timers = new TimerWheel(options.clock)
    this.#queue = new LimitQueue(options.clock)
    const hooks = {
      onBreaker: (ep: Endpoint, state: BreakerState) => {
        this.#emit(state === 'open' ? 'circuit:open' : state === 'half-open' ? 'circuit:halfOpen' : 'circuit:close', { endpoint: ep.id })
        this.#sync()
      },
      onConnection: () => this.#sync(),
      onReconnect: (ep: Endpoint, attempt: number, delay: number) => this.#emit('reconnect:attempt', { endpoint: ep.id, attempt, delay }),
    }
    this.#endpoints = options.endpoints.map((config, i) => new Endpoint(config, i, options, hooks))
    if (options.hedge && options.endpoints.length > 1) this.#hedgeBudget = new HedgeBudget(options.hedge.budget)
    if (options.cache) this.#cache = new AnswerCache(options.cache)
    if (options.retryBudget) this.#retryBudget = new RetryBudget(options.retryBudget)
    this.#records = this.#endpoints.map((e) => e.record)
    if (options.heartbeat) {
      this.#health = new HealthMonitor(this.#endpoints, options, options.heartbeat, {
        changed: () => this.#sync(),
        lowered: ({ from, to, reorg }) => {
          // Answers above the new head were wrong (a lie believed at start) or are gone (a reorg).
          if (this.#servedHead !== undefined && this.#servedHead > to) this.#servedHead = to
          // What was final may not be any more (a reorg deeper than the finality depth is rare, not impossible).
          this.#cache?.clear()
          if (reorg) this.#emit('chain:reorg', { from, to })
        },
      })
      this.#health.start()
    }
    // A subscriber like any other: logging adds no call to the request path.
    if (options.logger) attachLogger(this, options.logger, { ...options.logRateLimit, clock: options.clock })
  }

  get signal(): AbortSignal {
    return this.#lifetime.signal
  }

  get #referenceHead(): bigint | undefined {
    return this.#health?.referenceHead
  }

  /**
   * Brings every endpoint's reported status up to date, emits `endpoint:state` for each change, and
   * wakes requests waiting for an endpoint. Called after anything that can change a status.
   */
  #sync(): void {
    if (this.#destroyed) return
    const now = this.#options.clock.now()
    const reference = this.#referenceHead
    const judgeAhead = this.#judgeAhead()
    let changed = false
    for (const e of this.#endpoints) {
      e.refresh(now)
      const r = e.record
      const to = e.currentStatus(now, reference, judgeAhead)
      if (to === r.status) continue
      const from = r.status
      r.status = to
      const reason = this.#statusError(e, to, reference)
      this.#emit('endpoint:state', { endpoint: e.id, from, to, ...(reason ? { reason } : {}) })
      changed = true
    }
    if (changed) {
      for (const listener of [...this.#changeListeners]) {
        try {
          listener()
        } catch (error) {
          // A subscription's trouble is its own: the status sync (and the waiters below) carry on.
          this.#emit('error', error)
        }
      }
    }
    this.#notify()
  }

  #statusError(e: Endpoint, status: EndpointStatus, reference: bigint | undefined): ResilientRpcError | undefined {
    switch (status) {
      case 'up':
      case 'connecting':
        return undefined
      case 'lagging':
      case 'ahead': {
        const distance = headDistance(e.record.head, reference)
        const where = distance < 0n ? `${-distance} blocks behind` : `${distance} blocks ahead of`
        return new EndpointLaggingError(distance, `Endpoint is ${where} the reference head ${reference}`, { endpoint: e.id })
      }
      default:
        return e.record.lastError
    }
  }

  on<E extends keyof PoolEvents>(event: E, listener: (...args: PoolEvents[E]) => void): Pool {
    this.#emitter.on(event, listener as never)
    return this
  }

  once<E extends keyof PoolEvents>(event: E, listener: (...args: PoolEvents[E]) => void): Pool {
    this.#emitter.once(event, listener as never)
    return this
  }

  off<E extends keyof PoolEvents>(event: E, listener?: (...args: PoolEvents[E]) => void): Pool {
    this.#emitter.off(event, listener as never)
    return this
  }

  request<T>(method: string, params?: readonly unknown[], options?: RequestOptions): Promise<T> {
    // Timed only while someone listens (metrics): an unobserved pool pays one listener count per request.
    if (this.#emitter.listenerCount('request:done') === 0) return this.#request<T>(method, params, options)
    const { clock } = this.#options
    const start = clock.now()
    const done = (error?: ResilientRpcError) => this.#emit('request:done', { method, duration: clock.now() - start, ...(error ? { error } : {}) })
    return this.#request<T>(method, params, options).then(
      (value) => (done(), value),
      (error: ResilientRpcError) => (done(error), Promise.reject(error)),
    )
  }

  async #request<T>(method: string, params: readonly unknown[] = [], options: RequestOptions = {}): Promise<T> {
    if (this.#destroyed) throw new PoolDestroyedError()
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'expected an object')
    const call = this.#newCall(method, params, options)
    const timeout = duration('timeout', options.timeout, this.#options.defaultTimeout, false, true)
    call.deadlineAt = this.#options.clock.now() + timeout
    if (options.signal?.aborted) throw new AbortedError({ cause: options.signal.reason })
    if (options.quorum !== undefined && options.quorum !== 1) return this.#quorum(call, options.quorum, timeout, options.signal) as Promise<T>
    const span = (call.span = startRequestSpan(this.#options.tracer, method))
    const cacheKey = this.#cache && isIdempotentRead(method) ? `${method}|${call.paramsJson}` : undefined
    if (cacheKey !== undefined) {
      if (method === 'eth_chainId' && this.#health?.chainId !== undefined) {
        span?.end(undefined, 0, { 'resilient_rpc.cache': true })
        return `0x${this.#health.chainId.toString(16)}` as T
      }
      const cached = this.#cache!.get(cacheKey)
      if (cached) {
        span?.end(undefined, 0, { 'resilient_rpc.cache': true })
        return cached.value as T
      }
    }
    const shareable = this.#options.dedupe && isIdempotentRead(method)
    const flight = this.#flights.board(shareable ? this.#flightKey(call) : undefined, call, (signal) => this.#run(call, signal))
    let leaving: ResilientRpcError | undefined
    try {
      // The caller's deadline and signal bound the caller's wait; the flight lives while anyone waits for it.
      const result = await waitAtMost(flight.promise, {
        timeout,
        signal: options.signal,
        clock: this.#options.clock,
        timers: this.#timers,
        onTimeout: () => new TimeoutError('request', timeout),
      })
      if (cacheKey !== undefined) this.#cache!.offer(cacheKey, method, call.target, result, this.#referenceHead)
      // A caller that joined another's flight gets a span without children: the attempts are the other's.
      span?.end(undefined, flight.call.tried.length, flight.call === call ? undefined : { 'resilient_rpc.shared': true })
      return (method === 'eth_blockNumber' ? this.#monotonicHead(result) : result) as T
    } catch (error) {
      if (!flight.settled) leaving = options.signal?.aborted ? new AbortedError({ cause: options.signal.reason }) : isResilientRpcError(error) ? error : new AbortedError({ cause: error })
      const final = this.#finalError(error, flight.call, options.signal)
      span?.end(final, flight.call.tried.length, flight.call === call ? undefined : { 'resilient_rpc.shared': true })
      if (final.code !== 'ABORTED') this.#emit('request:error', { method, error: final })
      throw final
    } finally {
      this.#flights.leave(flight, leaving)
    }
  }

  /**
   * A quorum read (see quorum.ts): validated here, pinned to one block when it reads the latest
   * state, run under the request's deadline and signal; the asks are single attempts on distinct endpoints.
   */
  async #quorum(call: Call, quorum: number, timeout: number, callerSignal: AbortSignal | undefined): Promise<unknown> {
    if (!Number.isInteger(quorum) || quorum < 1 || quorum > this.#endpoints.length) {
      throw new InvalidOptionError('quorum', `expected an integer from 1 to ${this.#endpoints.length} (the number of endpoints), got ${show(quorum)}`)
    }
    if (!isIdempotentRead(call.method)) throw new InvalidOptionError('quorum', `only idempotent reads can be asked of several endpoints, not ${call.method}`)
    const { clock } = this.#options
    // Not withTimeout: its race would reject with the bare TimeoutError, and a quorum read that times
    // out should still say what it heard; quorumRead itself settles as soon as the signal aborts.
    const controller = new AbortController()
    const signal = controller.signal
    const timer = timeout === Infinity ? undefined : clock.setTimeout(() => controller.abort(new TimeoutError('request', timeout)), timeout)
    const onCallerAbort = () => controller.abort(callerSignal!.reason)
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true })
    this.#active.add(controller)
    try {
      let params = call.params
      if (call.target.kind === 'latest') {
        // Honest endpoints agree only about one state: pin the read to the block the pool trusts.
        const head = this.#referenceHead ?? BigInt(await this.request<string>('eth_blockNumber', [], { signal, timeout }))
        params = pinBlock(call.method, params, head) ?? params
      }
      const ask = async (asked: Set<number>, askSignal: AbortSignal): Promise<AskOutcome> => {
        const one = this.#newCall(call.method, params, { attemptTimeout: call.attemptTimeout, retries: 0 })
        one.avoid = asked
        let endpoint: Endpoint
        try {
          endpoint = await this.#acquire(one, askSignal)
        } catch (error) {
          // A full queue is an answer of sorts (listed with the failures); an abort ends the ask.
          if (askSignal.aborted || !isResilientRpcError(error)) throw error
          return { endpoint: '(none)', error }
        }
        try {
          return { endpoint: endpoint.id, result: await this.#attempt(endpoint, one, askSignal) }
        } catch (error) {
          return { endpoint: endpoint.id, error: this.#attemptError(error, endpoint) }
        }
      }
      // Down and quarantined endpoints are not waited for: the read fails once nobody else is left to ask.
      const askable = (asked: ReadonlySet<number>) => this.#records.filter((r) => !asked.has(r.index) && r.health !== 'quarantined' && r.health !== 'down').length
      const host = {
        clock,
        ask,
        askable,
        first: () => this.#retryBudget?.recordFirst(clock.now()),
        extra: () => this.#retryBudget?.trySpend(clock.now()) !== false,
      }
      return await quorumRead(host, quorum, signal)
    } catch (error) {
      if (callerSignal?.aborted) throw new AbortedError({ cause: callerSignal.reason })
      // The deadline passed while the block was being pinned: say so, not that the pin was aborted.
      if (isResilientRpcError(error, 'ABORTED') && isResilientRpcError(signal.reason, 'TIMEOUT')) throw signal.reason
      throw error
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer)
      callerSignal?.removeEventListener('abort', onCallerAbort)
      this.#active.delete(controller)
    }
  }

  /** Identical idempotent reads share a flight: same method and params, and for latest reads the same head. */
  #flightKey(call: Call): string {
    const head = call.target.kind === 'latest' ? String(this.#referenceHead ?? '') : ''
    return `${call.method}|${call.paramsJson}|${head}`
  }

  /** `eth_blockNumber` never goes backwards through the pool, whichever endpoint answers (a reorg resets it). */
  #monotonicHead(result: unknown): unknown {
    if (typeof result !== 'string' || !/^0x[0-9a-fA-F]+$/.test(result)) return result
    const head = BigInt(result)
    if (this.#servedHead !== undefined && head < this.#servedHead) return `0x${this.#servedHead.toString(16)}`
    this.#servedHead = head
    return result
  }

  async ready(options: ReadyOptions = {}): Promise<void> {
    if (this.#destroyed) throw new PoolDestroyedError()
    const minHealthy = options.minHealthy ?? 1
    if (!Number.isInteger(minHealthy) || minHealthy < 1 || minHealthy > this.#endpoints.length) {
      throw new InvalidOptionError('minHealthy', `expected an integer from 1 to ${this.#endpoints.length} (the number of endpoints), got ${show(minHealthy)}`)
    }
    const timeout = duration('timeout', options.timeout, this.#options.defaultTimeout, false, true)
    const healthy = () => this.#records.filter((r) => r.health === 'up').length
    const controller = new AbortController()
    this.#active.add(controller)
    try {
      await withTimeout(
        async (signal) => {
          while (healthy() < minHealthy) await this.#waitForChange(signal, undefined)
        },
        { timeout, signal: options.signal, clock: this.#options.clock, controller, onTimeout: () => new TimeoutError('request', timeout) },
      )
    } catch (error) {
      if (options.signal?.aborted) throw new AbortedError({ cause: options.signal.reason })
      if (isResilientRpcError(error, 'TIMEOUT')) {
        const now = this.#options.clock.now()
        const out = this.#endpoints
          .filter((e) => e.record.health !== 'up')
          .map((e) => ({ endpoint: e.id, reason: exclusionReason(e.record, now) ?? e.record.status }))
        throw new NotReadyError(healthy(), minHealthy, out, { cause: error })
      }
      throw error
    } finally {
      this.#active.delete(controller)
    }
  }

  #newCall(method: string, params: readonly unknown[], options: RequestOptions): Call {
    if (typeof method !== 'string' || method === '') throw new InvalidOptionError('method', 'expected a non-empty string')
    if (!Array.isArray(params)) throw new InvalidOptionError('params', 'expected an array')
    const attemptTimeout = duration('attemptTimeout', options.attemptTimeout, this.#options.attemptTimeout, false, true)
    const retries = options.retries ?? this.#options.retries
    if (!Number.isInteger(retries) || retries < 0) throw new InvalidOptionError('retries', `expected an integer >= 0, got ${show(retries)}`)
    let paramsJson: string
    try {
      paramsJson = JSON.stringify(params)
    } catch (cause) {
      throw new InvalidOptionError('params', 'not JSON-serialisable (encode bigints as hex quantities)', { cause })
    }
    return { method, params, paramsJson, attemptTimeout, retries, target: blockTarget(method, params), attempts: [], running: new Map(), tried: [], backoffs: 0, trial: false, waitingOn: undefined, deadlineAt: Infinity }
  }

  async #run(call: Call, signal: AbortSignal): Promise<unknown> {
    const { clock, backoff, random } = this.#options
    const attempt = async () => {
      const endpoint = await this.#acquire(call, signal)
      return this.#hedgeable(call) ? this.#hedgedAttempt(endpoint, call, signal) : this.#attempt(endpoint, call, signal)
    }
    const retryable = (error: unknown) => classifyError(error, { method: call.method }).retryable
    const afterFailure = async (error: unknown, attemptNumber: number, retriesLeft: number) => {
      if (retriesLeft === 0 || !retryable(error)) return
      if (this.#retryBudget?.trySpend(clock.now()) === false) throw new RetryBudgetExhaustedError({ cause: error, attempts: [...call.attempts] })
      // Failing over to an endpoint this request has not tried needs no back-off; coming back to one does.
      const delay = this.#hasUntried(call) ? 0 : backoffDelay(call.backoffs++, backoff, random)
      this.#emit('request:retry', { method: call.method, attempt: attemptNumber, endpoint: call.attempts.at(-1)?.endpoint ?? '', error: error as ResilientRpcError, delay })
      await sleep(delay, { signal, clock })
    }
    this.#retryBudget?.recordFirst(clock.now())
    // 1. The first attempt runs bare: most requests need one, and p-retry's set-up is a tenth of the
    //    pool's CPU per request (measured).
    try {
      return await attempt()
    } catch (error) {
      if (call.retries === 0 || !retryable(error)) throw error
      await afterFailure(error, 1, call.retries)
    }
    // 2. The retries: p-retry drives the loop; every wait is ours (one clock, one signal), so its own delay is zero.
    return pRetry(attempt, {
      retries: call.retries - 1,
      minTimeout: 0,
      maxTimeout: 0,
      signal,
      shouldRetry: ({ error }) => retryable(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => afterFailure(error, attemptNumber + 1, retriesLeft),
    })
  }

  #hasUntried(call: Call): boolean {
    const now = this.#options.clock.now()
    const ctx = this.#selectContext(call)
    return this.#records.some((r, i) => !call.tried.includes(i) && exclusionReason(r, now, ctx) === undefined)
  }

  #selectContext(call: Call | undefined) {
    return { target: call?.target, avoid: call?.avoid, referenceHead: this.#referenceHead, maxLag: this.#options.maxLag, requestTrials: !this.#health, judgeAhead: this.#judgeAhead() }
  }

  /** What selection needs for one pick: one object per attempt (spreading #selectContext made two). */
  #pickContext(call: Call, strategy: ResolvedPoolOptions['strategy'], now: number): SelectContext {
    return { strategy, target: call.target, avoid: call.avoid, referenceHead: this.#referenceHead, maxLag: this.#options.maxLag, requestTrials: !this.#health, judgeAhead: this.#judgeAhead(), cursor: this.#cursor, tried: call.tried, now }
  }

  /** One endpoint far ahead of the others is distrusted only when a majority (three or more live) outvotes it. */
  #judgeAhead(): boolean {
    let live = 0
    for (const r of this.#records) if (r.health === 'up' && r.head !== undefined) live++
    return live >= 3
  }

  /** Picks and reserves an endpoint for the next attempt, waiting (until the deadline) while none can take it. */
  async #acquire(call: Call, signal: AbortSignal): Promise<Endpoint> {
    const { clock, strategy, maxQueue } = this.#options
    // Place in the queue of requests waiting on endpoints' limits, once this request has one.
    let ticket: number | undefined
    for (;;) {
      signal.throwIfAborted()
      const now = clock.now()
      for (const e of this.#endpoints) e.refresh(now)
      const selection = selectEndpoint(this.#records, this.#pickContext(call, strategy, now))
      // A newcomer does not jump the queue: the capacity it found goes to the head, and it queues.
      const barging = selection.kind === 'picked' && ticket === undefined && this.#queue.size > 0
      if (selection.kind === 'picked' && !barging) {
        call.waitingOn = undefined
        this.#cursor = selection.cursor
        for (const [i, w] of selection.currentWeights) this.#records[i]!.currentWeight = w
        // Reserve the endpoint in the same tick as the pick: requests picking concurrently must see
        // each other's in-flight counts, or least-connections sends them all to one endpoint.
        const endpoint = this.#reserve(this.#endpoints[selection.index]!, call)
        // There may be capacity for the next waiter too (a burst of tokens, several free slots).
        if (ticket !== undefined) this.#queue.wakeHead()
        return endpoint
      }
      if (selection.kind === 'none') call.waitingOn = selection.excluded
      if (barging || (selection.kind === 'none' && selection.limited)) {
        // Waiting for an endpoint under its own limits is queueing, bounded by maxQueue; waiting for one to come back is not.
        if (ticket === undefined && this.#queue.size >= maxQueue) throw new QueueFullError(maxQueue, selection.kind === 'none' ? selection.excluded : [])
        ticket ??= this.#queue.ticket()
        const at = selection.kind === 'none' ? selection.retryAt : undefined
        const waiting = this.#queue.wait(ticket, at, signal)
        if (barging) this.#queue.wakeHead()
        await waiting
        continue
      }
      if (selection.kind === 'picked') continue
      await this.#waitForChange(signal, selection.retryAt === undefined ? undefined : selection.retryAt - now)
    }
  }

  #hedgeable(call: Call): boolean {
    return this.#hedgeBudget !== undefined && isIdempotentRead(call.method)
  }

  /**
   * One attempt that may become two: if `first` has not answered after the hedge delay (its recent
   * p95), the same request also goes to another endpoint, within the hedge budget. With the budget
   * spent, a read whose first attempt would outlive half the time left to its deadline gets one
   * rescue hedge then, within the retry budget only: without it, an attempt stuck on a hanging
   * endpoint takes the request down with it whenever the deadline is shorter than the attempt timeout.
   */
  #hedgedAttempt(first: Endpoint, call: Call, signal: AbortSignal): Promise<unknown> {
    const budget = this.#hedgeBudget!
    const { clock } = this.#options
    budget.earn()
    const delay = hedgeDelay(first.record.samples.recentP95(), this.#options.hedge as Exclude<ResolvedPoolOptions['hedge'], false>)
    const started = clock.now()
    const left = call.deadlineAt - started
    const rescueAt = Number.isFinite(left) && left / 2 < call.attemptTimeout ? left / 2 : undefined
    return raceWithHedge(
      (controller) => this.#attempt(first, call, signal, controller),
      (rescue) => {
        // A hedge is an extra attempt: it needs room in the pool's retry budget, and (unless it is the
        // deadline's rescue) the hedge budget's token.
        const now = clock.now()
        const allowed = (rescue || budget.available()) && this.#retryBudget?.available(now) !== false
        const second = allowed ? this.#tryAcquire(call, first) : undefined
        if (!second) return undefined
        if (!rescue) budget.spend()
        this.#retryBudget?.trySpend(now)
        this.#emit('request:hedge', { method: call.method, endpoint: first.id, hedge: second.id, delay: now - started })
        return (controller) => this.#attempt(second, call, signal, controller, true)
      },
      { delay, rescueAt, signal, clock, timers: this.#timers },
    )
  }

  /** Picks and reserves another endpoint for a hedge, without waiting; never `avoid` itself. */
  #tryAcquire(call: Call, avoid: Endpoint): Endpoint | undefined {
    const now = this.#options.clock.now()
    for (const e of this.#endpoints) e.refresh(now)
    const selection = selectEndpoint(this.#records, this.#pickContext(call, this.#options.strategy, now))
    if (selection.kind !== 'picked' || selection.index === avoid.record.index) return undefined
    this.#cursor = selection.cursor
    for (const [i, w] of selection.currentWeights) this.#records[i]!.currentWeight = w
    return this.#reserve(this.#endpoints[selection.index]!, call)
  }

  /** Counts an attempt against the endpoint before it is sent; #attempt's `finally` gives it back. */
  #reserve(endpoint: Endpoint, call: Call): Endpoint {
    const record = endpoint.record
    call.trial = record.breaker === 'half-open'
    if (call.trial) record.trialInFlight = true
    record.inFlight++
    record.requests++
    endpoint.takeToken(this.#options.clock.now())
    call.tried.push(record.index)
    call.avoid?.add(record.index)
    return endpoint
  }

  requestEach<T>(method: string, params: readonly unknown[] = [], options: RequestOptions = {}): Array<{ endpoint: string; result: Promise<T> }> {
    if (this.#destroyed) throw new PoolDestroyedError()
    const timeout = duration('timeout', options.timeout, this.#options.defaultTimeout, false, true)
    const probe = this.#newCall(method, params, options)
    const now = this.#options.clock.now()
    for (const e of this.#endpoints) e.refresh(now)
    const ctx = this.#selectContext(probe)
    // A broadcast respects the endpoints' limits too: one at its limit is not sent this copy.
    const eligible = this.#endpoints.filter((e) => exclusionReason(e.record, now, ctx) === undefined && limitReason(e.record, now) === undefined)
    return eligible.map((endpoint) => {
      const call = this.#newCall(method, params, { ...options, retries: 0 })
      const span = (call.span = startRequestSpan(this.#options.tracer, method, 'broadcast'))
      this.#reserve(endpoint, call)
      const controller = new AbortController()
      this.#active.add(controller)
      const result = withTimeout((signal) => this.#attempt(endpoint, call, signal), {
        timeout,
        signal: options.signal,
        clock: this.#options.clock,
        controller,
        onTimeout: () => new TimeoutError('request', timeout),
      })
        .then(
          (value) => {
            span?.end(undefined, 1)
            return value
          },
          (error: unknown) => {
            const final = this.#finalError(error, call, options.signal)
            span?.end(final, 1)
            throw final
          },
        )
        .finally(() => this.#active.delete(controller))
      return { endpoint: endpoint.id, result: result as Promise<T> }
    })
  }

  referenceHead(): bigint | undefined {
    return this.#referenceHead
  }

  /** Resolves when an endpoint may have become available, or after `ms`; rejects when `signal` aborts. */
  #waitForChange(signal: AbortSignal, ms: number | undefined): Promise<void> {
    const { clock } = this.#options
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(done)
        signal.removeEventListener('abort', onAbort)
        if (timer !== undefined) clock.clearTimeout(timer)
        resolve()
      }
      const onAbort = () => {
        this.#waiters.delete(done)
        if (timer !== undefined) clock.clearTimeout(timer)
        reject(signal.reason)
      }
      const timer = ms === undefined ? undefined : clock.setTimeout(done, Math.min(MAX_TIMER, Math.max(0, ms)))
      this.#waiters.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  #notify(): void {
    this.#queue.wakeHead()
    if (this.#waiters.size === 0) return
    for (const wake of [...this.#waiters]) wake()
  }

  async #attempt(endpoint: Endpoint, call: Call, signal: AbortSignal, controller?: AbortController, hedge = false): Promise<unknown> {
    const { clock } = this.#options
    const record = endpoint.record
    // Reserved by #acquire. A half-open breaker lets one request through; its outcome decides whether it closes.
    const { trial } = call
    const start = clock.now()
    call.running.set(endpoint, start)
    // `retry`: how many of this request's attempts had failed before this one started.
    const span = call.span?.attempt(endpoint.id, call.attempts.length, hedge)
    let failed = false
    try {
      const result = await withTimeout((s) => endpoint.transport.request(call.method, call.params, { signal: s, paramsJson: call.paramsJson }), {
        timeout: call.attemptTimeout,
        signal,
        clock,
        timers: this.#timers,
        controller,
        onTimeout: () => new TimeoutError('attempt', call.attemptTimeout, { endpoint: endpoint.id }),
      })
      endpoint.recordSuccess(clock.now() - start)
      // An endpoint's own answer is fresher news of its head than the last heartbeat.
      if (call.method === 'eth_blockNumber' && typeof result === 'string' && /^0x[0-9a-fA-F]+$/.test(result)) {
        const head = BigInt(result)
        if (record.head === undefined || head > record.head) record.head = head
      }
      // A `null` (no such block, receipt, transaction) from an endpoint behind the head may only mean it
      // has not seen it yet: ask one that has. From an endpoint at the head, `null` is the answer.
      const distance = headDistance(record.head, this.#referenceHead)
      if (result === null && distance < 0n) {
        throw new EndpointLaggingError(distance, `Endpoint answered null while ${-distance} blocks behind the reference head`, { endpoint: endpoint.id })
      }
      span?.end()
      return result
    } catch (thrown) {
      failed = true
      const error = this.#attemptError(thrown, endpoint)
      const now = clock.now()
      call.attempts.push({ endpoint: endpoint.id, error, duration: now - start })
      // Losing a hedged race is no failure, but it is news of slowness: without it a hanging endpoint
      // keeps no latency and least-connections keeps choosing it (found by the bad-day benchmark).
      if (error.details === HEDGE_LOST) endpoint.recordLostRace(now - start)
      endpoint.recordError(classifyError(error, { method: call.method }).verdict, error, now, start)
      span?.end(error)
      throw error
    } finally {
      call.running.delete(endpoint)
      record.inFlight--
      if (trial) record.trialInFlight = false
      // A failure may have restricted the endpoint (statuses and events to update); a success changes
      // no status, but a freed slot may let a waiting request through.
      if (failed) this.#sync()
      else this.#notify()
    }
  }

  /**
   * Names what ended an attempt. Aborts carry their reason in: a caller's abort or a lost hedge is an
   * `AbortedError` (neutral), a passed deadline a `TimeoutError` (the endpoint's failure).
   */
  #attemptError(thrown: unknown, endpoint: Endpoint): ResilientRpcError {
    if (isResilientRpcError(thrown)) return thrown
    return new NetworkError({ cause: thrown, endpoint: endpoint.id })
  }

  /** The one error a request rejects with: names the real cause and lists every attempt. */
  #finalError(thrown: unknown, call: Call, callerSignal: AbortSignal | undefined): ResilientRpcError {
    const attempts = [...call.attempts]
    const last = attempts.at(-1)?.error
    if (callerSignal?.aborted) return new AbortedError({ cause: callerSignal.reason, attempts })
    if (isResilientRpcError(thrown, 'POOL_DESTROYED')) return new PoolDestroyedError({ attempts })
    if (isResilientRpcError(thrown, 'TIMEOUT') && thrown.scope === 'request') {
      if (call.waitingOn) return new NoHealthyEndpointError(call.waitingOn, { cause: thrown, attempts })
      // Attempts the deadline cut are still unwinding: list them as what ended them.
      const now = this.#options.clock.now()
      for (const [endpoint, start] of call.running) attempts.push({ endpoint: endpoint.id, error: thrown, duration: now - start })
      return new TimeoutError('request', thrown.timeout, { cause: last ?? attempts.at(-1)?.error, attempts })
    }
    if (!isResilientRpcError(thrown)) return new NetworkError({ cause: thrown, attempts })
    if (classifyError(thrown, { method: call.method }).retryable && attempts.length > 1) {
      return new RetriesExhaustedError({ cause: thrown, attempts })
    }
    // Callers sharing a flight share its error object; the attempts are the same for all of them.
    thrown.attempts = attempts
    return thrown
  }

  #emit<K extends keyof PoolEvents>(event: K, ...args: PoolEvents[K]): void {
    try {
      (this.#emitter.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args)
    } catch (error) {
      // A throwing listener must not break the request path or a timer callback.
      if (event !== 'error') this.#emit('error', error)
    }
  }

  subscribe(kind: 'newHeads' | 'logs', ...args: unknown[]): () => void {
    if (this.#destroyed) throw new PoolDestroyedError()
    if (kind !== 'newHeads' && kind !== 'logs') throw new InvalidOptionError('kind', `expected 'newHeads' or 'logs', got ${show(kind)}`)
    const [filter, listener, options] = kind === 'logs' ? args : [undefined, ...args]
    const given = (options ?? {}) as HeadsSubscribeOptions
    if (typeof given !== 'object') throw new InvalidOptionError('options', 'expected an object')
    if (given.signal !== undefined && (given.signal === null || typeof (given.signal as Partial<AbortSignal>).addEventListener !== 'function')) {
      throw new InvalidOptionError('signal', 'expected an AbortSignal')
    }
    if (kind === 'logs' && (typeof filter !== 'object' || filter === null)) throw new InvalidOptionError('filter', 'expected a log filter object')
    const id = this.#nextSubscription++
    const end = createSubscription(this.#subscriptionHost(id), id, kind, filter as LogFilter | undefined, listener as (item: never) => void, (options ?? {}) as HeadsSubscribeOptions)
    const signal = (options as HeadsSubscribeOptions | undefined)?.signal
    const unsubscribe = () => {
      this.#subscriptions.delete(id)
      signal?.removeEventListener('abort', unsubscribe)
      end()
    }
    if (signal?.aborted) return unsubscribe
    this.#subscriptions.set(id, unsubscribe)
    signal?.addEventListener('abort', unsubscribe, { once: true })
    return unsubscribe
  }

  #subscriptionHost(id: number): SubscriptionHost {
    return {
      request: (method, params, signal) => this.request(method, params, { signal }),
      webSockets: () =>
        this.#endpoints
          .filter((e) => e.record.status === 'up' && typeof (e.transport as Partial<WsTransport>).subscribe === 'function')
          .sort((a, b) => (a.record.tier === b.record.tier ? (a.record.latencyEwma ?? Infinity) - (b.record.latencyEwma ?? Infinity) : a.record.tier === 'primary' ? -1 : 1))
          .map((e) => ({ id: e.id, transport: e.transport as WsTransport })),
      onChange: (listener) => {
        this.#changeListeners.add(listener)
        return () => this.#changeListeners.delete(listener)
      },
      sourceChanged: (_id, source) => this.#emit('subscription:source', { id, ...source }),
      error: (error) => this.#emit('error', error),
      clock: this.#options.clock,
    }
  }

  stats(): PoolStats {
    this.#sync()
    const now = this.#options.clock.now()
    const reference = this.#referenceHead
    const ctx = this.#selectContext(undefined)
    return Object.freeze({
      chainId: this.#health?.chainId ?? this.#options.chainId,
      referenceHead: reference,
      endpoints: Object.freeze(this.#endpoints.map((e) => snapshotEndpoint(e.record, exclusionReason(e.record, now, ctx), reference, e.limiter.budget(now)))),
      retryBudget: this.#retryBudget?.stats(now),
    })
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return
    this.#destroyed = true
    // Reverse of construction: pending calls first (their aborts cancel fetches and waits), then breakers.
    const reason = new PoolDestroyedError()
    this.#lifetime.abort(reason)
    this.#health?.stop()
    for (const end of [...this.#subscriptions.values()]) end()
    this.#changeListeners.clear()
    for (const controller of this.#active) controller.abort(reason)
    this.#active.clear()
    for (const e of this.#endpoints) e.destroy()
    this.#timers.stop()
    this.#emitter.removeAllListeners()
  }
}
