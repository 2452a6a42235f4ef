import type { Clock, TimerHandle } from './clock.js'
import { unrefTimer } from './clock.js'

// One native timer for many coarse deadlines. A request used to set (and nearly always clear) up to
// three native timers: ~3 µs per pair on Node 20, measured, for timers that almost never fire.
// Entries go into buckets of `resolution` ms; scheduling is a Map lookup and an array push, and
// cancelling an O(1) swap-remove, so a settled request leaves nothing behind. The one native timer is
// armed for the earliest bucket and only moved earlier, never re-armed per entry: a bucket emptied by
// cancels costs at most one idle wake-up. (undici's fast timers tick every 500 ms over one list and
// clear lazily; buckets keep cancels exact and the precision at a few ms.)

/** A scheduled callback; pass it to `cancel`. Opaque outside this module. */
export type WheelTimer = {
  /** Set to undefined once fired or cancelled: the entry then holds no reference to the caller's state. */
  fn: ((arg: never) => void) | undefined
  arg: unknown
  /** The bucket holding it, while scheduled. */
  bucket: WheelTimer[] | undefined
  index: number
}

export type TimerWheelOptions = {
  /** Width of a bucket (ms): a callback runs up to this much (plus the event loop's lag) after its time. @default 10 */
  resolution?: number
}

export class TimerWheel {
  readonly #clock: Clock
  readonly #resolution: number
  /** Bucket number (time / resolution, rounded up) → its entries; a bucket is in here iff its number is in #keys. */
  readonly #buckets = new Map<number, WheelTimer[]>()
  /** Bucket numbers, ascending, from #head on (earlier slots are consumed). */
  #keys: number[] = []
  #head = 0
  #size = 0
  #timer: TimerHandle | undefined
  /** Bucket number the native timer is armed for. */
  #armedFor = Infinity
  /** The bucket whose callbacks are running: a cancel inside it only marks its entry. */
  #firing: WheelTimer[] | undefined

  constructor(clock: Clock, options: TimerWheelOptions = {}) {
    this.#clock = clock
    this.#resolution = options.resolution ?? 10
  }

  /** Buckets kept, emptied ones included until the next wake-up drops them (for tests: what a long run accumulates). */
  get buckets(): number {
    return this.#buckets.size
  }

  /** Entries scheduled and neither fired nor cancelled. */
  get size(): number {
    return this.#size
  }

  /**
   * Calls `fn(arg)` once, `ms` from now or up to `resolution` ms later. `fn` is meant to be shared (one
   * function for every request) and `arg` the per-call state, so scheduling allocates one entry.
   */
  schedule<A>(ms: number, fn: (arg: A) => void, arg: A): WheelTimer {
    const key = Math.ceil((this.#clock.now() + Math.max(0, ms)) / this.#resolution)
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      bucket = []
      this.#buckets.set(key, bucket)
      this.#insertKey(key)
    }
    const entry: WheelTimer = { fn: fn as (arg: never) => void, arg, bucket, index: bucket.length }
    bucket.push(entry)
    this.#size++
    if (key < this.#armedFor) this.#arm(key)
    return entry
  }

  /** Forgets `entry` (a no-op once it fired or was cancelled). */
  cancel(entry: WheelTimer): void {
    if (entry.fn === undefined) return
    entry.fn = undefined
    entry.arg = undefined
    this.#size--
    const bucket = entry.bucket!
    entry.bucket = undefined
    if (bucket === this.#firing) return
    const last = bucket.pop()!
    if (last !== entry) {
      bucket[entry.index] = last
      last.index = entry.index
    }
  }

  /** Drops every entry and the native timer (the owner's destroy). */
  stop(): void {
    for (const bucket of this.#buckets.values()) {
      for (const entry of bucket) {
        entry.fn = undefined
        entry.arg = undefined
        entry.bucket = undefined
      }
    }
    this.#buckets.clear()
    this.#keys = []
    this.#head = 0
    this.#size = 0
    this.#disarm()
  }

  #insertKey(key: number): void {
    const keys = this.#keys
    // Nearly always the latest (deadlines are now + a constant); otherwise a binary search.
    if (keys.length === this.#head || key > keys[keys.length - 1]!) {
      keys.push(key)
      return
    }
    let lo = this.#head
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (keys[mid]! < key) lo = mid + 1
      else hi = mid
    }
    keys.splice(lo, 0, key)
  }

  #arm(key: number): void {
    this.#disarm()
    this.#armedFor = key
    const delay = Math.max(1, key * this.#resolution - this.#clock.now())
    this.#timer = this.#clock.setTimeout(this.#tick, delay)
    unrefTimer(this.#timer)
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedFor = Infinity
  }

  readonly #tick = (): void => {
    this.#timer = undefined
    this.#armedFor = Infinity
    const due = Math.floor(this.#clock.now() / this.#resolution)
    const keys = this.#keys
    while (this.#head < keys.length) {
      const key = keys[this.#head]!
      const bucket = this.#buckets.get(key)!
      if (key > due) {
        // The next bucket still holding something sets the next wake-up; emptied ones are dropped on the way.
        if (bucket.length > 0) {
          this.#arm(key)
          break
        }
      } else if (bucket.length > 0) {
        this.#fire(bucket)
      }
      this.#buckets.delete(key)
      this.#head++
    }
    if (this.#head > 1_024 && this.#head * 2 > keys.length) {
      this.#keys = keys.slice(this.#head)
      this.#head = 0
    }
  }

  #fire(bucket: WheelTimer[]): void {
    this.#firing = bucket
    try {
      for (const entry of bucket) {
        const fn = entry.fn
        if (fn === undefined) continue
        const arg = entry.arg
        entry.fn = undefined
        entry.arg = undefined
        entry.bucket = undefined
        this.#size--
        try {
          fn(arg as never)
        } catch (error) {
          // Like a native timer's exception, but the other callbacks of the bucket still run.
          queueMicrotask(() => {
            throw error
          })
        }
      }
    } finally {
      this.#firing = undefined
    }
  }
}
