import pRetry from 'p-retry'
import { EAGER_PROBE_INTERVAL } from '../config/defaults.js'
import type { ResilientRpcError } from '../errors/base.js'
import { backoffSchedule, scheduledDelay } from '../util/backoffSchedule.js'
import { timerDelay, unrefTimer, type Clock, type TimerHandle } from '../util/clock.js'
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

/** The back-off wait in progress: when it ends, and how to end it sooner. */
type Wait = { until: number; timer: TimerHandle; done: () => void }

/**
 * Keeps a WebSocket endpoint connected. p-retry drives each run: every attempt is one connection,
 * which fails when it ends before staying up for `stableAfter` (the back-off is waited out and the
 * next attempt made) and succeeds once it did (the endpoint is back, the run is over). A run starts
 * when the transport first connects, and again when a stable connection is lost. `stop()` (close,
 * destroy) aborts the run, its wait included.
 *
 * The back-off waits are ours, on the transport's clock, not p-retry's (its delays are zero): a pool
 * whose requests wait for this endpoint must be able to cut one short (`hurry()`), and p-retry's own
 * timer can only be ended by aborting the whole run.
 */
export class ReconnectLoop {
  /** Reconnect attempts since the last stable connection (the run's, or the last run's if it gave up). */
  attempt = 0
  readonly #policy: ReconnectPolicy
  readonly #random: () => number
  readonly #unref: boolean
  readonly #clock: Clock
  readonly #host: ReconnectHost
  #run: AbortController | undefined
  #wait: Wait | undefined
  /** When the latest attempt started (or the stable connection whose loss began the run ended). */
  #attemptAt = -Infinity

  constructor(policy: ReconnectPolicy, options: { random: () => number; unref: boolean; clock: Clock }, host: ReconnectHost) {
    this.#policy = policy
    this.#random = options.random
    this.#unref = options.unref
    this.#clock = options.clock
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
    this.#attemptAt = this.#clock.now()
    pRetry(
      (attemptNumber) => {
        if (lost !== undefined && attemptNumber === 1) return Promise.reject(lost)
        this.#attemptAt = this.#clock.now()
        return this.#host.connect(attemptNumber - 1)
      },
      {
        minTimeout: 0,
        retries: this.#policy.maxAttempts,
        signal: run.signal,
        shouldRetry: async ({ error, retriesConsumed }) => {
          const delay = scheduledDelay(schedule, retriesConsumed)
          if (!this.#shouldRetry(run, error as ResilientRpcError, retriesConsumed, delay)) return false
          await this.#waitOut(run, delay)
          return !run.signal.aborted
        },
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

  /**
   * Someone needs the endpoint now: a back-off wait in progress ends at once, or `EAGER_PROBE_INTERVAL`
   * after the previous attempt started if that is later, so a caller hurrying on every probe still
   * makes at most one attempt per interval. Nothing happens while an attempt is under way.
   */
  hurry(): void {
    const wait = this.#wait
    if (wait === undefined) return
    const at = Math.max(this.#clock.now(), this.#attemptAt + EAGER_PROBE_INTERVAL)
    if (at >= wait.until) return
    this.#clock.clearTimeout(wait.timer)
    wait.until = at
    wait.timer = this.#timer(wait.done, at - this.#clock.now())
  }

  /** Waits `ms` on the clock; ends early when the run is aborted (and resolves: p-retry then sees the abort). */
  #waitOut(run: AbortController, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(wait.timer)
        run.signal.removeEventListener('abort', done)
        if (this.#wait === wait) this.#wait = undefined
        resolve()
      }
      const wait: Wait = { until: this.#clock.now() + ms, timer: this.#timer(done, ms), done }
      this.#wait = wait
      run.signal.addEventListener('abort', done, { once: true })
    })
  }

  #timer(fn: () => void, ms: number): TimerHandle {
    const timer = this.#clock.setTimeout(fn, timerDelay(ms))
    if (this.#unref) unrefTimer(timer)
    return timer
  }

  // p-retry asks this before each wait, once `maxAttempts` has not run out: the answer and the
  // announcement of the wait are one step, so no event announces a wait that is not taken.
  #shouldRetry(run: AbortController, error: ResilientRpcError, retriesConsumed: number, delay: number): boolean {
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
    this.#host.waiting(this.attempt, delay)
    return true
  }
}
