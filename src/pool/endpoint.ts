import type { BreakerState, EndpointStatus, SelectableEndpoint } from '../balancer/select.js'
import type { EndpointVerdict } from '../errors/classify.js'
import type { RateLimitedError, ResilientRpcError } from '../errors/errors.js'
import { createBreaker, type Breaker } from '../policy/breaker.js'
import { createHttpTransport, type Transport } from '../transport/http.js'
import type { ResolvedEndpoint, ResolvedPoolOptions } from './options.js'

/** Everything the pool tracks about one endpoint. Plain data: selection reads it, `stats()` copies it. */
export type EndpointRecord = SelectableEndpoint & {
  readonly index: number
  consecutiveFailures: number
  /** Attempts sent, and how they ended. */
  requests: number
  successes: number
  failures: number
  lastError: ResilientRpcError | undefined
}

export type EndpointHooks = {
  onStatus(endpoint: Endpoint, from: EndpointStatus, to: EndpointStatus, reason: ResilientRpcError | undefined): void
  onBreaker(endpoint: Endpoint, state: BreakerState): void
}

// Weight of the newest sample in the latency average: ~5 samples dominate, so a recovering endpoint
// is believed quickly, one outlier is not.
const EWMA_ALPHA = 0.3

/** One endpoint of a pool: its state record, breaker and transport. Internal. */
export class Endpoint {
  readonly record: EndpointRecord
  readonly breaker: Breaker
  readonly transport: Transport
  readonly #options: ResolvedPoolOptions
  readonly #hooks: EndpointHooks

  constructor(config: ResolvedEndpoint, index: number, options: ResolvedPoolOptions, hooks: EndpointHooks) {
    this.#options = options
    this.#hooks = hooks
    this.record = {
      id: config.id,
      index,
      tier: config.tier,
      weight: config.weight,
      status: 'up',
      statusUntil: 0,
      statusReason: undefined,
      breaker: 'closed',
      trialInFlight: false,
      inFlight: 0,
      effectiveWeight: config.weight,
      currentWeight: 0,
      latencyEwma: undefined,
      consecutiveFailures: 0,
      requests: 0,
      successes: 0,
      failures: 0,
      lastError: undefined,
    }
    this.transport = createHttpTransport({ url: config.url, headers: config.headers, endpoint: config.id, fetch: options.fetch })
    this.breaker = createBreaker(options.breaker, (state) => {
      this.record.breaker = state
      hooks.onBreaker(this, state)
    })
  }

  get id(): string {
    return this.record.id
  }

  /** Lifts a time-bound status (cool-down, unauthorized) whose time is up. */
  refresh(now: number): void {
    const r = this.record
    if (r.status !== 'up' && now >= r.statusUntil) this.#setStatus('up', now, undefined)
  }

  recordSuccess(latency: number): void {
    const r = this.record
    r.successes++
    r.consecutiveFailures = 0
    r.latencyEwma = r.latencyEwma === undefined ? latency : r.latencyEwma + EWMA_ALPHA * (latency - r.latencyEwma)
    r.effectiveWeight = Math.min(r.weight, r.effectiveWeight + r.weight / 10)
    this.breaker.recordSuccess()
  }

  /** Records what a failed attempt says about this endpoint, per `classifyError`'s verdict. */
  recordError(verdict: EndpointVerdict, error: ResilientRpcError, now: number): void {
    if (verdict === 'neutral') return
    const r = this.record
    r.failures++
    r.lastError = error
    switch (verdict) {
      case 'failure':
        r.consecutiveFailures++
        r.effectiveWeight = Math.max(Math.min(1, r.weight), r.effectiveWeight - r.weight / 2)
        this.breaker.recordFailure(error)
        return
      case 'rate-limited': {
        const { maxRetryAfter, rateLimitCooldown } = this.#options
        const retryAfter = (error as RateLimitedError).retryAfter
        const until = now + Math.min(maxRetryAfter, retryAfter ?? rateLimitCooldown)
        // A longer cool-down already running is kept: the endpoint asked for it.
        if (r.status !== 'cooldown' || until > r.statusUntil) this.#setStatus('cooldown', until, error)
        return
      }
      case 'unauthorized':
        this.#setStatus('unauthorized', now + this.#options.unauthorizedCooldown, error)
        return
    }
  }

  #setStatus(to: EndpointStatus, until: number, reason: ResilientRpcError | undefined): void {
    const r = this.record
    const from = r.status
    r.status = to
    r.statusUntil = until
    r.statusReason = reason?.shortMessage
    if (from !== to) this.#hooks.onStatus(this, from, to, reason)
  }

  destroy(): void {
    this.breaker.destroy()
  }
}
