// Options of the pool's policies and helpers; their defaults are in ./defaults.ts.

export type BackoffOptions = {
  /** Delay before the first retry (ms). @default 100 */
  initial?: number
  /** Upper bound of any delay (ms). @default 2_000 */
  max?: number
  /** Growth per attempt. @default 2 */
  factor?: number
  /** Share of the delay that is randomised, 0..1: the delay lands in `[d·(1−jitter), d]`. @default 0.5 */
  jitter?: number
}

export type BreakerOptions = {
  /** Failure percentage over the rolling window above which the breaker opens. @default 50 */
  errorThresholdPercentage?: number
  /** Minimum recorded outcomes in the window before the breaker may open. @default 5 */
  volumeThreshold?: number
  /** Length of the rolling window (ms). @default 10_000 */
  rollingWindow?: number
  /** How long the breaker stays open before letting one trial through (ms). @default 5_000 */
  resetTimeout?: number
}

export type HeartbeatOptions = {
  /** Interval between pings of one endpoint (ms). @default 2_000 */
  interval?: number
  /** Time limit of one ping (ms). @default 1_500 */
  timeout?: number
  /** Failed pings in a row that mark an endpoint down. @default 2 */
  failuresToDown?: number
  /** Share of the interval that is randomised, 0..1, so endpoints are not pinged in lock-step. @default 0.2 */
  jitter?: number
  /** Let heartbeat timers not keep a Node process alive. @default true */
  unref?: boolean
  /**
   * How often an endpoint that is up proves its chain id again (ms; `Infinity`: only on each new
   * connection). An HTTP endpoint has no connection to re-verify, and the load balancer behind one
   * URL can start routing to another chain's node; a mismatch quarantines the endpoint. @default 60_000
   */
  chainCheckInterval?: number
}
export type HedgeOptions = {
  /** Fixed delay before a hedge is sent (ms), or `'adaptive'`: the first endpoint's recent p95 latency. @default 'adaptive' */
  delay?: number | 'adaptive'
  /** Lower bound of an adaptive delay (ms). @default 50 */
  minDelay?: number
  /** Adaptive delay while an endpoint has no latency samples yet (ms). @default 500 */
  initialDelay?: number
  /** Extra requests hedging may add, as a share of the requests that could be hedged, 0..1. @default 0.1 */
  budget?: number
}
export type RateLimitOptions = {
  /** Sustained requests per second the endpoint may receive (> 0). */
  perSecond: number
  /** Requests that may go out back to back after a quiet spell (>= 1). @default max(1, perSecond) */
  burst?: number
}
export type RetryBudgetOptions = {
  /** Retries and hedges allowed per first attempt over the window, >= 0. @default 0.2 */
  ratio?: number
  /** Retries per second allowed whatever the traffic, so a quiet pool can still retry (>= 0). @default 5 */
  minPerSecond?: number
  /** Sliding window the budget is counted over (ms). @default 10_000 */
  window?: number
}

export type CacheOptions = {
  /** Blocks a block must have on top before answers about it are cached as final. @default 64 */
  finalityDepth?: number
  /** Answers kept, least recently used evicted first. @default 1_000 */
  maxEntries?: number
}

export type BatchOptions = {
  /** Most requests in one batch; a full batch is sent at once. @default 10 */
  maxSize?: number
  /** How long the first request of a batch waits for others (ms). `0` collects what is sent in the same tick. @default 0 */
  wait?: number
}
