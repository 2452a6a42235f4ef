import pRetry from 'p-retry'
import type { ResilientRpcError } from '../errors/base.js'
import { backoffSchedule, scheduledDelay, type BackoffSchedule } from '../util/backoffSchedule.js'
import type { ResolvedOptions } from './wsOptions.js'

/** The `reconnect` options, resolved. */
export type ReconnectPolicy = ResolvedOptions['reconnect']

/** What the loop needs from the transport. */
export type ReconnectHost = {
  /**
   * Starts connection attempt `attempt` (0: a first connection; n: reconnect n). Settles once that
   * connection stayed up for `stableAfter` (resolves), or when it ended before (rejects with why).
   */
  connect(attempt: number): Promise<void>
  /** Reconnect `attempt` starts in `delay` ms: p-retry has decided to wait that long. */
  waiting(attempt: number, delay: number): void
  /** `maxAttempts` or the `giveUp` policy ended the loop after `attempts` reconnects. */
  gaveUp(attempts: number, reason: ResilientRpcError): void
  /** The `giveUp` policy threw: reported, and the loop goes on. */
  report(error: unknown): void
}

/**
 * Keeps a WebSocket endpoint connected. p-retry drives each run and does its waiting: every attempt
 * is one connection, which fails when it ends before staying up for `stableAfter` (p-retry then
 * waits out the back-off and tries again) and succeeds once it did (the endpoint is back, the run
 * is over). A run starts when the transport first connects, and again when a stable connection is
 * lost. `stop()` (close, destroy) aborts the run, its wait included.
 *
 * p-retry waits on the global timers, not the transport's injected clock: this loop is the
 * documented exception to the one clock, and its tests use fake timers.
 */
export class ReconnectLoop {
  /** Reconnect attempts since the last stable connection (the run's, or the last run's if it gave up). */
  attempt = 0
  readonly #policy: ReconnectPolicy
  readonly #random: () => number
  readonly #unref: boolean
  readonly #host: ReconnectHost
  #run: AbortController | undefined

  constructor(policy: ReconnectPolicy, options: { random: () => number; unref: boolean }, host: ReconnectHost) {
    this.#policy = policy
    this.#random = options.random
    this.#unref = options.unref
    this.#host = host
  }

  /**
   * Starts a run; its first attempt connects at once (synchronously). With `lost`, the connection
   * that just failed is the run's first attempt instead, so that even the first reconnect waits:
   * clients a server restart dropped all at once must not all be back at that same instant.
   */
  start(lost?: ResilientRpcError): void {
    // A run whose stable connection was just lost may not have settled yet: it is over either way.
    this.#run?.abort()
    const run = new AbortController()
    this.#run = run
    this.attempt = 0
    const schedule = backoffSchedule(this.#policy, this.#random)
    pRetry(
      (attemptNumber) => {
        if (lost !== undefined && attemptNumber === 1) return Promise.reject(lost)
        return this.#host.connect(attemptNumber - 1)
      },
      {
        ...schedule,
        retries: this.#policy.maxAttempts,
        signal: run.signal,
        unref: this.#unref,
        shouldRetry: ({ error, retriesConsumed }) => this.#shouldRetry(run, error as ResilientRpcError, retriesConsumed, schedule),
      },
    ).then(
      () => {
        if (this.#run !== run) return
        this.#run = undefined
        this.attempt = 0
      },
      (error: unknown) => {
        if (this.#run !== run || run.signal.aborted) return
        this.#run = undefined
        this.#host.gaveUp(this.attempt, error as ResilientRpcError)
      },
    )
  }

  /** Ends the run in progress, its wait included; the next `start()` counts from zero. */
  stop(): void {
    this.#run?.abort()
    this.#run = undefined
    this.attempt = 0
  }

  // p-retry asks this before each wait, once `maxAttempts` has not run out: the answer and the
  // announcement of the wait are one step, so no event announces a wait that is not taken.
  #shouldRetry(run: AbortController, error: ResilientRpcError, retriesConsumed: number, schedule: BackoffSchedule): boolean {
    if (run.signal.aborted) return false
    const giveUp = this.#policy.giveUp
    if (giveUp) {
      try {
        if (giveUp({ attempt: retriesConsumed, error })) return false
      } catch (thrown) {
        this.#host.report(thrown)
      }
    }
    this.attempt = retriesConsumed + 1
    this.#host.waiting(this.attempt, scheduledDelay(schedule, retriesConsumed))
    return true
  }
}
