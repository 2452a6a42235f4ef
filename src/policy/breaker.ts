import CircuitBreaker from 'opossum'
import type { BreakerState } from '../types/endpoint.js'
import type { BreakerOptions } from '../config/policyOptions.js'
import { unrefTimer, type Clock, type TimerHandle } from '../util/clock.js'

// opossum's rolling window has ten buckets; its `rotateBucketController` option lets one emitter
// rotate the buckets of many breakers instead of an interval per breaker.
const BUCKETS = 10

/**
 * The rolling windows of a pool's breakers, rotated on the pool's clock: one timer for all of them.
 * opossum's other timer, the open breaker's `resetTimeout`, has no such seam and runs on the global
 * timers (a test that drives it uses fake timers); with heartbeats, the half-open trial is a ping.
 */
export type BreakerWindow = {
  /** Handed to opossum as `rotateBucketController`. */
  readonly controller: RotationController
  stop(): void
}

/**
 * The part of an EventEmitter opossum's `rotateBucketController` uses. Its own, not eventemitter3's:
 * opossum asks `listenerCount(event, listener)` for one listener, which eventemitter3 (and the
 * `events` polyfill of browser builds) answer for all listeners, so a second breaker would never join.
 */
class RotationController {
  readonly #listeners = new Set<() => void>()

  on(_event: string, listener: () => void): this {
    this.#listeners.add(listener)
    return this
  }

  removeListener(_event: string, listener: () => void): this {
    this.#listeners.delete(listener)
    return this
  }

  listenerCount(_event: string, listener?: () => void): number {
    return listener === undefined ? this.#listeners.size : this.#listeners.has(listener) ? 1 : 0
  }

  rotate(): void {
    for (const listener of this.#listeners) listener()
  }

  clear(): void {
    this.#listeners.clear()
  }
}

export function createBreakerWindow(clock: Clock, rollingWindow: number): BreakerWindow {
  const controller = new RotationController()
  const interval = Math.max(1, Math.floor(rollingWindow / BUCKETS))
  let timer: TimerHandle | undefined
  const tick = () => {
    controller.rotate()
    timer = clock.setTimeout(tick, interval)
    // A window that rotates on keeps nothing alive: breakers hold no request.
    unrefTimer(timer)
  }
  timer = clock.setTimeout(tick, interval)
  unrefTimer(timer)
  return {
    controller,
    stop() {
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      controller.clear()
    },
  }
}

/**
 * A per-endpoint circuit breaker that is told outcomes rather than wrapping calls. Only real endpoint
 * successes and failures are recorded: neutral outcomes (caller aborts, reverts) must never reach
 * opossum, which would count an excused error as a success and close a half-open breaker on it.
 */
export type Breaker = {
  state(): BreakerState
  recordSuccess(): void
  recordFailure(error: Error): void
  /** Forces the breaker closed (e.g. a health check proved the endpoint well). */
  close(): void
  destroy(): void
}

const SUCCEED = Symbol('succeed')

/** A breaker told outcomes; with `window`, its rolling statistics rotate on that window's clock. */
export function createBreaker(options: Required<BreakerOptions>, onStateChange: (state: BreakerState) => void, window?: BreakerWindow): Breaker {
  // opossum keeps its rolling statistics and state machine; the "action" only replays an outcome
  // we already observed, so opossum's own timeout, semaphore and fallback play no part.
  const cb = new CircuitBreaker((outcome: Error | typeof SUCCEED) => (outcome === SUCCEED ? Promise.resolve() : Promise.reject(outcome)), {
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    rollingCountTimeout: options.rollingWindow,
    rollingCountBuckets: BUCKETS,
    ...(window ? { rotateBucketController: window.controller as unknown as NonNullable<CircuitBreaker.Options['rotateBucketController']> } : {}),
    resetTimeout: options.resetTimeout,
    enableSnapshots: false,
    capacity: Number.MAX_SAFE_INTEGER,
  })
  let state: BreakerState = 'closed'
  const set = (next: BreakerState) => {
    if (state === next) return
    state = next
    onStateChange(next)
  }
  cb.on('open', () => set('open'))
  cb.on('halfOpen', () => set('half-open'))
  cb.on('close', () => set('closed'))
  const ignore = () => {}
  let destroyed = false
  // A late outcome of a request sent before the breaker opened must change nothing. opossum would
  // reject the replay but still count it in its window, diluting the failure rate after it closes.
  const accepting = () => !destroyed && !cb.opened && !(cb.halfOpen && !cb.pendingClose)

  return {
    state: () => state,
    recordSuccess() {
      if (!accepting()) return
      // Closed, a success changes no state: it only counts, and opossum counts by its own 'fire' and
      // 'success' events (its Status listens to them). Emitting them skips fire()'s promise, semaphore
      // and replay, the breaker's whole cost on the success path. Half-open, the state machine decides.
      if (cb.closed) {
        cb.emit('fire')
        cb.emit('success', undefined, 0)
      } else {
        cb.fire(SUCCEED).catch(ignore)
      }
    },
    recordFailure(error) {
      if (accepting()) cb.fire(error).catch(ignore)
    },
    close() {
      if (!destroyed) cb.close()
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      cb.removeAllListeners()
      cb.shutdown()
    },
  }
}
