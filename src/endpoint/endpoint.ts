import { endpointStatus, type SelectableEndpoint } from '../balancer/select.js'
import type { BreakerState, EndpointHealth, EndpointStatus } from '../types/endpoint.js'
import type { EndpointVerdict } from '../errors/classify.js'
import type { RateLimitedError } from '../errors/endpoint.js'
import type { ResilientRpcError } from '../errors/base.js'
import { createBreaker, type Breaker } from '../policy/breaker.js'
import { RateLimiter } from '../policy/rateLimit.js'
import { createHttpTransport, type Transport } from '../transport/http.js'
import { createWsTransport } from '../transport/ws.js'
import type { WsTransport } from '../transport/wsOptions.js'
import { isResilientRpcError } from '../errors/guard.js'
import { createScrubber, scrubError, secretsOf } from '../util/secrets.js'
import type { ResolvedEndpoint, ResolvedPoolOptions } from '../config/poolOptions.js'
import { SampleWindow } from './sampleWindow.js'

/** Everything the pool tracks about one endpoint. Plain data: selection reads it, `stats()` copies it. */
export type EndpointRecord = SelectableEndpoint & {
  readonly index: number
  /** The status last reported in an `endpoint:state` event. */
  status: EndpointStatus
  /**
   * Connection generation: bumped whenever the endpoint goes up or down. Work started in one
   * generation (a heartbeat ping) must not act on a later one.
   */
  generation: number
  /** Chain id the endpoint reported at its last handshake. */
  chainId: bigint | undefined
  /** Failed heartbeats in a row. */
  pingFailures: number
  /** When a heartbeat last read its head (clock ms). */
  headAt: number
  /** When a heartbeat last read its chain id (clock ms). */
  chainCheckedAt: number
  /** Heartbeats in a row that reported a head below the reference head (for reorg detection). */
  lowerStreak: number
  /** Whether its head went back while below the reference head: a reorg witness. */
  fellBack: boolean
  /** Attempts sent, and how they ended. */
  requests: number
  successes: number
  failures: number
  lastError: ResilientRpcError | undefined
  readonly samples: SampleWindow
}

export type EndpointHooks = {
  onBreaker(endpoint: Endpoint, state: BreakerState): void
  /** A WebSocket endpoint's connection dropped. */
  onConnection?(endpoint: Endpoint): void
  /** A WebSocket endpoint is about to try to reconnect after `delay` ms. */
  onReconnect?(endpoint: Endpoint, attempt: number, delay: number): void
}

// Weight of the newest sample in the latency average: ~5 samples dominate, so a recovering endpoint
// is believed quickly, one outlier is not.
const EWMA_ALPHA = 0.3

/** One endpoint of a pool: its state record, breaker and transport. Internal. */
export class Endpoint {
  readonly record: EndpointRecord
  readonly breaker: Breaker
  readonly transport: Transport
  /** The endpoint's request budget: configured `rateLimit`, lowered by 429s. */
  readonly limiter: RateLimiter
  readonly #options: ResolvedPoolOptions

  constructor(config: ResolvedEndpoint, index: number, options: ResolvedPoolOptions, hooks: EndpointHooks) {
    this.#options = options
    // Without heartbeats nothing would ever verify the endpoint, so it is trusted from the start.
    const health: EndpointHealth = options.heartbeat ? 'connecting' : 'up'
    this.record = {
      id: config.id,
      index,
      tier: config.tier,
      weight: config.weight,
      health,
      healthReason: undefined,
      restriction: undefined,
      restrictedUntil: 0,
      restrictionReason: undefined,
      head: undefined,
      headAt: 0,
      chainCheckedAt: 0,
      status: health,
      generation: 0,
      chainId: undefined,
      pingFailures: 0,
      lowerStreak: 0,
      fellBack: false,
      breaker: 'closed',
      trialInFlight: false,
      inFlight: 0,
      effectiveWeight: config.weight,
      currentWeight: 0,
      latencyEwma: undefined,
      consecutiveFailures: 0,
      lostRace: false,
      requests: 0,
      successes: 0,
      failures: 0,
      lastError: undefined,
      samples: new SampleWindow(),
      maxConcurrency: config.maxConcurrency,
      nextTokenAt: 0,
    }
    this.limiter = new RateLimiter(config.rateLimit, options.clock.now())
    const ws = config.url.startsWith('ws:') || config.url.startsWith('wss:')
    const transport = ws
      ? createWsTransport({
          ...options.webSocket,
          url: config.url,
          endpoint: config.id,
          headers: config.headers,
          chainId: options.chainId,
          clock: options.clock,
          random: options.random,
          maxResponseBytes: options.maxResponseBytes,
        })
      : createHttpTransport({
          url: config.url,
          headers: config.headers,
          endpoint: config.id,
          fetch: options.fetch,
          batch: options.batch,
          clock: options.clock,
          maxResponseBytes: options.maxResponseBytes,
          maxSockets: options.maxSockets,
        })
    const scrub = createScrubber(secretsOf(config.url, config.headers))
    this.transport = scrub ? scrubbing(transport, scrub) : transport
    if (ws) {
      // A dropped socket is news now, not at the next failed heartbeat: the endpoint is down until a
      // new connection has passed its handshake and a heartbeat has verified it again.
      ;(this.transport as WsTransport).on('closed', (e) => {
        const reason = isResilientRpcError(e.reason) ? (scrub ? scrubError(e.reason, scrub) : e.reason) : undefined
        if (this.record.health === 'up') this.setHealth('down', reason)
        hooks.onConnection?.(this)
      })
      ;(this.transport as WsTransport).on('reconnect:attempt', (e) => hooks.onReconnect?.(this, e.attempt, e.delay))
    }
    this.breaker = createBreaker(options.breaker, (state) => {
      this.record.breaker = state
      hooks.onBreaker(this, state)
    })
  }

  get id(): string {
    return this.record.id
  }

  /** The status the endpoint has now, given the pool's reference head. */
  currentStatus(now: number, referenceHead: bigint | undefined, judgeAhead: boolean): EndpointStatus {
    return endpointStatus(this.record, now, referenceHead, this.#options.maxLag, judgeAhead)
  }

  /**
   * Its attempt lost a hedged race: no failure (the breaker hears nothing), but news of slowness —
   * the time it took is a latency sample, and selection ranks it after the others until it answers a
   * request or a heartbeat again.
   * Without this a hanging endpoint stays the least loaded and keeps being picked first.
   */
  recordLostRace(latency: number): void {
    this.observeLatency(latency)
    this.record.lostRace = true
  }

  /** Folds a latency sample into the EWMA. */
  observeLatency(latency: number): void {
    const r = this.record
    r.latencyEwma = r.latencyEwma === undefined ? latency : r.latencyEwma + EWMA_ALPHA * (latency - r.latencyEwma)
  }

  recordSuccess(latency: number): void {
    const r = this.record
    r.successes++
    r.consecutiveFailures = 0
    r.lostRace = false
    r.samples.push(latency)
    this.observeLatency(latency)
    r.effectiveWeight = Math.min(r.weight, r.effectiveWeight + r.weight / 10)
    this.breaker.recordSuccess()
  }

  /** Records what a failed attempt says about this endpoint, per `classifyError`'s verdict. */
  recordError(verdict: EndpointVerdict, error: ResilientRpcError, now: number, sentAt = now): void {
    if (verdict === 'neutral') return
    const r = this.record
    r.failures++
    r.lastError = error
    r.samples.push(undefined)
    switch (verdict) {
      case 'failure':
        r.consecutiveFailures++
        r.effectiveWeight = Math.max(Math.min(1, r.weight), r.effectiveWeight - r.weight / 2)
        this.breaker.recordFailure(error)
        return
      case 'rate-limited':
      case 'unauthorized':
        this.restrict(verdict, error, now, sentAt)
    }
  }

  /**
   * Takes the endpoint out for a while: a cool-down after a rate limit, or after 401/403. A rate
   * limit also lowers the endpoint's learned rate (`sentAt`: when the refused request went out).
   */
  restrict(verdict: 'rate-limited' | 'unauthorized', error: ResilientRpcError, now: number, sentAt = now): void {
    const r = this.record
    if (verdict === 'rate-limited') {
      this.limiter.rateLimited(now, sentAt)
      this.#updateTokenAt(now)
    }
    const { maxRetryAfter, rateLimitCooldown, unauthorizedCooldown } = this.#options
    const kind = verdict === 'rate-limited' ? 'cooldown' : 'unauthorized'
    const until =
      verdict === 'rate-limited' ? now + Math.min(maxRetryAfter, (error as RateLimitedError).retryAfter ?? rateLimitCooldown) : now + unauthorizedCooldown
    // A longer restriction already running is kept, whatever its kind: the endpoint asked for it.
    if (r.restriction !== undefined && now < r.restrictedUntil && until <= r.restrictedUntil) return
    r.restriction = kind
    r.restrictedUntil = until
    r.restrictionReason = error.shortMessage
    r.lastError = error
  }

  /** Takes a rate-limit token for a request about to be sent (selection made sure there is one). */
  takeToken(now: number): void {
    this.limiter.take(now)
    this.#updateTokenAt(now)
  }

  #updateTokenAt(now: number): void {
    const at = this.limiter.nextTokenAt(now)
    // 0 for "has a token": the record stays the same while nothing limits the endpoint.
    this.record.nextTokenAt = at > now ? at : 0
  }

  /** Lifts a restriction whose time is up; brings the rate-limit token time up to date. */
  refresh(now: number): void {
    const r = this.record
    this.#updateTokenAt(now)
    if (r.restriction !== undefined && now >= r.restrictedUntil) {
      r.restriction = undefined
      r.restrictionReason = undefined
    }
  }

  /** Moves the connection-level health; going up or down starts a new generation. */
  setHealth(health: EndpointHealth, reason: ResilientRpcError | undefined): void {
    const r = this.record
    if (reason) r.lastError = reason
    r.healthReason = reason?.shortMessage
    if (r.health === health) return
    r.health = health
    r.generation++
    if (health === 'up') {
      r.pingFailures = 0
      // A fresh connection starts with a clean slate: its old breaker history is about a connection that is gone.
      this.breaker.close()
    }
  }

  destroy(): void {
    this.breaker.destroy()
    void this.transport.destroy?.()
  }
}

/**
 * The transport with every error it hands out cleaned of the endpoint's own secrets: a node may
 * quote the request (its key) in an error text, and errors travel to events, logs and callers.
 * Only endpoints that have something to hide pay for the extra promise.
 */
function scrubbing(transport: Transport, scrub: (text: string) => string): Transport {
  const clean = (error: unknown): never => {
    throw scrubError(error, scrub)
  }
  const wrapped: Transport & Partial<WsTransport> = Object.create(transport)
  wrapped.request = (method, params, options) => transport.request(method, params, options).catch(clean)
  const ws = transport as Partial<WsTransport>
  if (typeof ws.subscribe === 'function') {
    wrapped.subscribe = (params, onMessage, options) => ws.subscribe!(params, onMessage, options).catch(clean)
  }
  return wrapped
}
