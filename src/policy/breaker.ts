import CircuitBreaker from 'opossum'
import type { BreakerState } from '../types/endpoint.js'
import type { BreakerOptions } from '../config/policyOptions.js'

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

export function createBreaker(options: Required<BreakerOptions>, onStateChange: (state: BreakerState) => void): Breaker {
  // opossum keeps its rolling statistics and state machine; the "action" only replays an outcome
  // we already observed, so opossum's own timeout, semaphore and fallback play no part.
  const cb = new CircuitBreaker((outcome: Error | typeof SUCCEED) => (outcome === SUCCEED ? Promise.resolve() : Promise.reject(outcome)), {
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    rollingCountTimeout: options.rollingWindow,
    rollingCountBuckets: 10,
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
