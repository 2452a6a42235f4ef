import { integer } from '../config/validate.js'
import { DEFAULT_WATCH } from './options.js'

export type RangeSizeOptions = {
  /** Blocks per `eth_getLogs` range at the start (and the most it grows back to). @default 2_000 */
  initial?: number
  /** Successful ranges in a row before the range doubles again. @default 3 */
  growAfter?: number
}

/**
 * How many blocks the next `eth_getLogs` range spans: halved when an endpoint refuses a range as too
 * large, doubled back (up to the initial size) after `growAfter` answered ranges in a row. Plain
 * state, no I/O: the watcher tells it what happened.
 */
export class RangeSize {
  readonly #max: number
  readonly #growAfter: number
  #size: number
  #successes = 0

  constructor(options: RangeSizeOptions = {}) {
    const initial = integer('range', options.initial, DEFAULT_WATCH.range, 1)
    const growAfter = integer('growAfter', options.growAfter, 3, 1)
    this.#max = initial
    this.#size = initial
    this.#growAfter = growAfter
  }

  /** Blocks the next range may span. */
  get size(): number {
    return this.#size
  }

  /** The range was refused (or returned more logs than we buffer). Returns `false` when it cannot shrink further. */
  shrink(): boolean {
    this.#successes = 0
    if (this.#size === 1) return false
    this.#size = Math.max(1, Math.floor(this.#size / 2))
    return true
  }

  /** A range of `span` blocks was answered. Only a range that used the whole size counts towards growing back. */
  succeeded(span: number): void {
    if (span < this.#size) return
    if (++this.#successes < this.#growAfter) return
    this.#successes = 0
    this.#size = Math.min(this.#max, this.#size * 2)
  }
}
