import type { Clock, TimerHandle } from './clock.js'
import { refTimer, unrefTimer } from './clock.js'

// One native timer for many callbacks that are nearly always cancelled (a request's deadline, attempt
// timeout and hedge delay): a request used to set and clear up to three native timers, ~3 µs per pair
// on Node 20, measured. Entries are grouped in buckets of `resolution` ms, so scheduling is a Map
// lookup and a push, and cancelling an O(1) swap-remove: a settled request leaves nothing behind.
// The native timer is armed for the earliest entry and only ever moved earlier, never re-armed per
// entry; when the entry it was armed for was cancelled, it costs one idle wake-up, which arms it for
// the next live entry. Callbacks run at their exact time, as a native timer's would. The timer keeps
// the process alive only while a live entry waits (a pending request's deadline must, as a native
// timer did); armed for cancelled entries only, it is unref'd.
// (undici's fast timers tick every 500 ms over one list and clear lazily; buckets keep cancels exact.)

/** A scheduled callback; pass it to `cancel`. Opaque outside this module. */
export type WheelTimer = {
  /** Clock time it is due. */
  at: number
  /** Set to undefined once fired or cancelled: the entry then holds no reference to the caller's state. */
  fn: ((arg: never) => void) | undefined
  arg: unknown
  /** The bucket holding it, while scheduled. */
  bucket: WheelTimer[] | undefined
  index: number
}

export type TimerWheelOptions = {
  /** Width of a bucket (ms): how finely entries are grouped, not how late they run. @default 10 */
  resolution?: number
}

/**
 * A `Clock` whose timers are entries on one native timer: pass it wherever a component takes a clock
 * and its timers are short-lived and nearly always cancelled (a request's deadline, attempt timeout
 * and hedge delay). Background loops keep the plain clock: an entry here keeps the process alive
 * while it waits, and `unrefTimer` does nothing to it.
 */
export class TimerWheel implements Clock {
  readonly #clock: Clock
  readonly #resolution: number
  /** Bucket numbers count from here: small integers (Smis) hash and compare far faster in a Map than Date.now()-sized doubles. */
  readonly #epoch: number
  /** Bucket number (due time from #epoch / resolution, rounded up) → its entries; a bucket is in here iff its number is in #keys. */
  readonly #buckets = new Map<number, WheelTimer[]>()
  /** Bucket numbers, ascending, from #head on (earlier slots are consumed). */
  #keys: number[] = []
  #head = 0
  #size = 0
  #timer: TimerHandle | undefined
  /** Clock time the native timer is armed for. */
  #armedAt = Infinity
  /** The bucket whose callbacks are running: a cancel inside it only marks its entry. */
  #firing: WheelTimer[] | undefined

  constructor(clock: Clock, options: TimerWheelOptions = {}) {
    this.#clock = clock
    this.#resolution = options.resolution ?? 10
    this.#epoch = clock.now()
  }

  now(): number {
    return this.#clock.now()
  }

  /** `Clock.setTimeout`: `fn` runs once, `ms` from now. The handle is the wheel's entry, for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(ms, callThunk, fn) as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle): void {
    this.cancel(handle as unknown as WheelTimer)
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
   * Calls `fn(arg)` once, `ms` from now (or later, as a native timer would). `fn` is meant to be shared (one
   * function for every request) and `arg` the per-call state, so scheduling allocates one entry.
   */
  schedule<A>(ms: number, fn: (arg: A) => void, arg: A): WheelTimer {
    const at = this.#clock.now() + Math.max(0, ms)
    // `| 0`: an int32 stays a Smi as a Map key (a float result would be boxed and hashed as a double).
    const key = Math.ceil((at - this.#epoch) / this.#resolution) | 0
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      bucket = []
      this.#buckets.set(key, bucket)
      this.#insertKey(key)
    }
    const entry: WheelTimer = { at, fn: fn as (arg: never) => void, arg, bucket, index: bucket.length }
    bucket.push(entry)
    if (this.#size++ === 0 && this.#timer !== undefined) refTimer(this.#timer)
    if (at < this.#armedAt) this.#arm(at)
    return entry
  }

  /** Forgets `entry` (a no-op once it fired or was cancelled). */
  cancel(entry: WheelTimer): void {
    if (entry.fn === undefined) return
    entry.fn = undefined
    entry.arg = undefined
    if (--this.#size === 0 && this.#timer !== undefined) unrefTimer(this.#timer)
    const bucket = entry.bucket!
    entry.bucket = undefined
    if (bucket !== this.#firing) removeAt(bucket, entry.index)
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

  #arm(at: number): void {
    this.#disarm()
    this.#armedAt = at
    this.#timer = this.#clock.setTimeout(this.#tick, Math.max(0, at - this.#clock.now()))
    if (this.#size === 0) unrefTimer(this.#timer)
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedAt = Infinity
  }

  readonly #tick = (): void => {
    this.#timer = undefined
    this.#armedAt = Infinity
    const now = this.#clock.now()
    while (this.#head < this.#keys.length) {
      const key = this.#keys[this.#head]!
      const bucket = this.#buckets.get(key)
      // stop() from a callback.
      if (bucket === undefined) return
      if (bucket.length === 0) {
        this.#buckets.delete(key)
        this.#head++
        continue
      }
      let due: WheelTimer[] | undefined
      let next = Infinity
      for (let i = 0; i < bucket.length; ) {
        const entry = bucket[i]!
        if (entry.at > now) {
          if (entry.at < next) next = entry.at
          i++
          continue
        }
        removeAt(bucket, i)
        ;(due ??= []).push(entry)
        entry.bucket = due
      }
      if (due === undefined) {
        // The earliest live entry sets the next wake-up (a callback may have armed one already).
        if (next < this.#armedAt) this.#arm(next)
        break
      }
      this.#fire(due)
      // Callbacks may have scheduled into this bucket or cancelled from it: look at it again.
    }
    if (this.#head > 1_024 && this.#head * 2 > this.#keys.length) {
      this.#keys = this.#keys.slice(this.#head)
      this.#head = 0
    }
  }

  #fire(due: WheelTimer[]): void {
    this.#firing = due
    try {
      for (const entry of due) {
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
          // Like a native timer's exception, but the other due callbacks still run.
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

function callThunk(fn: () => void): void {
  fn()
}

/** Swap-removes `bucket[index]`, keeping the moved entry's index right. */
function removeAt(bucket: WheelTimer[], index: number): void {
  const last = bucket.pop()!
  if (index < bucket.length) {
    bucket[index] = last
    last.index = index
  }
}
