import type { TimerHandle } from '../util/clock.js'

export type BroadcastLoopOptions = {
  /** One broadcast round; it handles its own errors. */
  round: () => Promise<void>
  /** Time from the start of one round to the start of the next (ms). */
  interval: number
  /** Whether rounds are due at all (the transaction is neither mined nor finished). */
  due: () => boolean
  setTimer: (fn: () => void, ms: number) => TimerHandle
  clearTimer: (handle: TimerHandle) => void
}

/**
 * The re-broadcast cadence of one transaction: a round when triggered, then one every `interval`
 * counted from the start of the previous round, for as long as rounds are `due`. A trigger during a
 * round (an endpoint came back up, the transaction was reorged out) runs one more right after it.
 *
 * Not a p-retry loop, because it is not a retry: p-retry repeats an operation until it succeeds,
 * waiting after each failure. Here an accepted round is repeated all the same (a mempool can evict an
 * accepted transaction until it is mined), the wait is a fixed cadence from the start of a round
 * rather than a back-off from a failure, and an endpoint coming back up must start a round at once,
 * which a p-retry wait cannot do short of being aborted. Driving this with p-retry would mean throwing
 * on success and restarting the loop on every trigger. So it is a timer on the outbox's clock.
 */
export class BroadcastLoop {
  readonly #options: BroadcastLoopOptions
  #running = false
  #again = false
  #timer: TimerHandle | undefined

  constructor(options: BroadcastLoopOptions) {
    this.#options = options
  }

  /** A round now, or right after the one in flight; nothing when rounds are not due. */
  trigger(): void {
    if (!this.#options.due()) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = true
    void this.#run()
  }

  /** Cancels the next scheduled round (mined, or finished); a later `trigger` starts the cadence again. */
  clear(): void {
    if (this.#timer !== undefined) this.#options.clearTimer(this.#timer)
    this.#timer = undefined
  }

  async #run(): Promise<void> {
    try {
      do {
        this.#again = false
        // Scheduled before the round: a round slowed by an outage (the routing waits for an endpoint)
        // is followed at once by the next one that fell due meanwhile.
        this.#schedule()
        await this.#options.round()
      } while (this.#again && this.#options.due())
    } catch {
      // A round handles its own errors; this only keeps a bug from becoming an unhandled rejection.
    } finally {
      this.#running = false
    }
  }

  #schedule(): void {
    this.clear()
    if (!this.#options.due()) return
    this.#timer = this.#options.setTimer(() => {
      this.#timer = undefined
      this.trigger()
    }, this.#options.interval)
  }
}
