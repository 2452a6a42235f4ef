import { timerDelay, type Clock, type TimerHandle } from '../util/clock.js'


type Entry = { seq: number; at: number | undefined; wake: () => void }

/**
 * The queue of requests waiting for an endpoint under its limits (`maxConcurrency`, `rateLimit`), in
 * arrival order. Only the head is woken — by its own timer (the next token it can use), by
 * `wakeHead()` when capacity may have freed up — and a waiter that got its endpoint wakes the next:
 * a freed slot or a new token costs one selection, not one per waiter (with every waiter woken,
 * 1000 waiters on a 100/s endpoint took over 30 s of CPU for 10 s of traffic). A waiter that was
 * woken but found nothing re-enters with its old number, so it keeps its place.
 */
export class LimitQueue {
  readonly #clock: Clock
  readonly #entries: Entry[] = []
  #next = 0
  #timer: TimerHandle | undefined
  #timerFor: Entry | undefined

  constructor(clock: Clock) {
    this.#clock = clock
  }

  get size(): number {
    return this.#entries.length
  }

  /** A number for a new waiter: its place in the queue. */
  ticket(): number {
    return this.#next++
  }

  /**
   * Waits with place `seq` until woken; at the head, at the latest at clock time `at` (when a token
   * is due). Rejects with `signal.reason` when it aborts.
   */
  wait(seq: number, at: number | undefined, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      const leave = () => {
        const i = this.#entries.indexOf(entry)
        if (i >= 0) this.#entries.splice(i, 1)
        signal.removeEventListener('abort', onAbort)
        this.#schedule()
        return i === 0
      }
      const entry: Entry = {
        seq,
        at,
        wake: () => {
          leave()
          resolve()
        },
      }
      const onAbort = () => {
        // The head leaving hands its turn on: the new head must look for itself.
        if (leave()) this.wakeHead()
        reject(signal.reason)
      }
      let i = this.#entries.length
      while (i > 0 && this.#entries[i - 1]!.seq > seq) i--
      this.#entries.splice(i, 0, entry)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#schedule()
    })
  }

  /** Capacity may have freed up: the head (only) looks again. */
  wakeHead(): void {
    this.#entries[0]?.wake()
  }

  /** Keeps one timer, for the head's `at`. */
  #schedule(): void {
    const head = this.#entries[0]
    if (head === this.#timerFor) return
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerFor = head
    if (head?.at === undefined) return
    const delay = timerDelay(head.at - this.#clock.now())
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined
      this.#timerFor = undefined
      this.wakeHead()
    }, delay)
  }
}
