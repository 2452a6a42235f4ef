import type { PoolOptions } from '../config/poolOptions.js'
import { resolvePoolOptions } from '../config/resolvePool.js'
import { PoolDestroyedError } from '../errors/request.js'
import { Endpoint } from '../endpoint/endpoint.js'
import { HealthMonitor } from '../health/heartbeat.js'
import { attachLogger } from '../observability/logger.js'
import { createBreakerWindow } from '../policy/breaker.js'
import { RetryBudget } from '../policy/retryBudget.js'
import type { BlockHeader, HeadsSubscribeOptions, LogFilter, LogsSubscribeOptions, RpcLog } from '../subscriptions/subscription.js'
import type { BreakerState } from '../types/endpoint.js'
import type { PoolEvents } from '../types/events.js'
import { EventSource, type Listenable } from '../util/emitter.js'
import { TimerWheel } from '../util/timerWheel.js'
import { Attempts } from './attempt.js'
import { broadcast, type BroadcastResult } from './broadcast.js'
import type { RequestOptions } from './call.js'
import type { PoolCore } from './core.js'
import { notServing, referenceHead } from './core.js'
import { Dispatcher } from './dispatch.js'
import { ReadFloor } from './floor.js'
import { FreshHeads, type FreshHeadOptions } from './freshHead.js'
import { Hedging } from './hedging.js'
import { QuorumReads } from './quorumRequest.js'
import { ready, type ReadyOptions } from './ready.js'
import { Requester } from './request.js'
import { Retries } from './retry.js'
import { poolStats, type PoolStats } from './stats.js'
import { Statuses } from './statuses.js'
import { Subscriptions } from './subscribe.js'

export type { RequestOptions } from './call.js'
export type { FreshHeadOptions } from './freshHead.js'
export type { ReadyOptions } from './ready.js'

/** A pool of JSON-RPC endpoints that balances, retries, fails over and never leaves a request pending. */
export interface Pool extends Listenable<PoolEvents, Pool> {
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
  requestEach<T = unknown>(method: string, params?: readonly unknown[], options?: RequestOptions): Array<BroadcastResult<T>>
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
  /** The pool's reference head (see docs/concepts/health.md in the package), `undefined` before heartbeats know it or without them. */
  referenceHead(): bigint | undefined
  /**
   * A fresh confirmed head: the pool's confirmed head (two live endpoints reached it, or the only live
   * one reports it) when it was confirmed within `maxAge` (about one block time by default), else the
   * head one round of `eth_blockNumber` to every endpoint that can take it now confirms; concurrent
   * callers share the round. Never below what the pool already returned for `eth_blockNumber` (its
   * read floor). What confirmation-depth reads and `waitForTransaction` count from.
   * @throws `TIMEOUT`, `ABORTED`, `POOL_DESTROYED`, `CHAIN_MISMATCH` (chain in doubt), `INVALID_OPTION`, or the pool's request errors
   * (`NO_ENDPOINT`, `RETRIES_EXHAUSTED`, …) when no endpoint answered the round
   * @example
   * const head = await pool.freshHead({ timeout: 5_000 })
   */
  freshHead(options?: FreshHeadOptions): Promise<bigint>
  /** Aborts (with `POOL_DESTROYED`) when the pool is destroyed: helpers built on the pool stop with it. */
  readonly signal: AbortSignal
  /** A frozen snapshot of the pool and every endpoint. */
  stats(): PoolStats
  /** Rejects every pending request with `POOL_DESTROYED` and stops every timer. Idempotent. */
  destroy(): Promise<void>
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

const BREAKER_EVENTS = { open: 'circuit:open', 'half-open': 'circuit:halfOpen', closed: 'circuit:close' } as const satisfies Record<BreakerState, keyof PoolEvents>

/** The façade: builds every part in order (each only knows the parts below it) and tears them down in reverse. */
class PoolImpl extends EventSource<PoolEvents> implements Pool {
  readonly #core: PoolCore
  readonly #lifetime = new AbortController()
  readonly #stopBreakers: () => void
  readonly #dispatcher: Dispatcher
  readonly #statuses: Statuses
  readonly #attempts: Attempts
  readonly #requester: Requester
  readonly #subscriptions: Subscriptions
  readonly #freshHeads: FreshHeads

  constructor(options: ReturnType<typeof resolvePoolOptions>) {
    super()
    const events = this.emitter
    const breakerWindow = createBreakerWindow(options.clock, options.breaker.rollingWindow)
    this.#stopBreakers = () => breakerWindow.stop()
    const hooks = {
      onBreaker: (e: Endpoint, state: BreakerState) => {
        events.emit(BREAKER_EVENTS[state], { endpoint: e.id })
        this.#statuses.sync()
      },
      onConnection: () => this.#statuses.sync(),
      onReconnect: (e: Endpoint, attempt: number, delay: number) => events.emit('reconnect:attempt', { endpoint: e.id, attempt, delay }),
    }
    const endpoints = options.endpoints.map((config, i) => new Endpoint(config, i, options, hooks, breakerWindow))
    const health = options.heartbeat
      ? new HealthMonitor({
          endpoints,
          heartbeat: options.heartbeat,
          chainId: options.chainId,
          clock: options.clock,
          random: options.random,
          changed: () => this.#statuses.sync(),
          waiting: () => this.#dispatcher.waiting,
          lowered: ({ from, to, reorg }) => {
            this.#requester.lowered(to)
            if (reorg) events.emit('chain:reorg', { from, to })
          },
          adopted: (e) => events.emit('chain:adopted', e),
          doubted: (e) => events.emit('chain:conflict', e),
        })
      : undefined
    const core: PoolCore = (this.#core = {
      options,
      clock: options.clock,
      timers: new TimerWheel(options.clock),
      endpoints,
      views: endpoints.map((e) => e.view),
      events,
      active: new Set(),
      health,
      retryBudget: options.retryBudget ? new RetryBudget(options.retryBudget) : undefined,
      lifetime: this.#lifetime.signal,
    })
    const dispatcher = (this.#dispatcher = new Dispatcher(core))
    const statuses = (this.#statuses = new Statuses(core, dispatcher))
    const floor = new ReadFloor(core)
    const attempts = (this.#attempts = new Attempts(core, dispatcher, statuses, floor))
    const hedging = options.hedge && endpoints.length > 1 ? new Hedging(core, dispatcher, attempts, options.hedge) : undefined
    const head = async (signal: AbortSignal, timeout: number) => BigInt(await this.request<string>('eth_blockNumber', [], { signal, timeout }))
    const quorum = new QuorumReads(core, dispatcher, attempts, head, floor)
    this.#requester = new Requester(core, new Retries(core, dispatcher, attempts, hedging), quorum, floor)
    this.#subscriptions = new Subscriptions(core, statuses, (method, params, signal) => this.request(method, params, { signal }))
    this.#freshHeads = new FreshHeads({
      clock: core.timers,
      defaultTimeout: options.defaultTimeout,
      // No longer than a ping may take: an endpoint slower than that at eth_blockNumber is not healthy.
      roundTimeout: Math.min(options.attemptTimeout, options.heartbeat ? options.heartbeat.timeout : Infinity),
      health,
      floor,
      refused: () => notServing(core),
      each: (requestOptions) => this.requestEach<string>('eth_blockNumber', [], requestOptions),
      request: (requestOptions) => this.request<string>('eth_blockNumber', [], requestOptions),
    })
    health?.start()
    // A subscriber like any other: logging adds no call to the request path.
    if (options.logger) attachLogger(this, options.logger, { ...options.logRateLimit, clock: options.clock })
  }

  get signal(): AbortSignal {
    return this.#lifetime.signal
  }

  request<T>(method: string, params?: readonly unknown[], options?: RequestOptions): Promise<T> {
    return this.#requester.request<T>(method, params, options)
  }

  requestEach<T>(method: string, params: readonly unknown[] = [], options: RequestOptions = {}): Array<BroadcastResult<T>> {
    return broadcast<T>(this.#core, this.#dispatcher, this.#attempts, method, params, options)
  }

  ready(options?: ReadyOptions): Promise<void> {
    return ready(this.#core, this.#dispatcher, options)
  }

  subscribe(kind: 'newHeads' | 'logs', ...args: unknown[]): () => void {
    return this.#subscriptions.subscribe(kind, args)
  }

  referenceHead(): bigint | undefined {
    return referenceHead(this.#core)
  }

  freshHead(options?: FreshHeadOptions): Promise<bigint> {
    return this.#freshHeads.get(options)
  }

  stats(): PoolStats {
    this.#statuses.sync()
    return poolStats(this.#core, this.#dispatcher)
  }


  async destroy(): Promise<void> {
    if (this.#lifetime.signal.aborted) return
    // Reverse of construction: pending calls first (their aborts cancel fetches and waits), then breakers.
    const reason = new PoolDestroyedError()
    this.#lifetime.abort(reason)
    // Nothing torn down below may report a status change or wake a waiter any more.
    this.#statuses.stop()
    this.#core.health?.stop()
    this.#subscriptions.endAll()
    for (const controller of this.#core.active) controller.abort(reason)
    this.#core.active.clear()
    for (const e of this.#core.endpoints) e.destroy()
    this.#stopBreakers()
    this.#core.timers.stop()
    this.emitter.removeAllListeners()
  }
}
