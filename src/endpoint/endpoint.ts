import { endpointStatus, headDistance } from '../balancer/eligibility.js'
import type { ResolvedEndpoint, ResolvedPoolOptions } from '../config/poolOptions.js'
import type { ResilientRpcError } from '../errors/base.js'
import { retryAfterOf, type EndpointVerdict } from '../errors/classify.js'
import { isResilientRpcError } from '../errors/guard.js'
import { createBreaker, type Breaker, type BreakerWindow } from '../policy/breaker.js'
import { RateLimiter, type RateBudget } from '../policy/rateLimit.js'
import type { Transport } from '../transport/transport.js'
import type { WsTransport } from '../transport/wsOptions.js'
import type { BreakerState, EndpointHealth, EndpointStatus, EndpointView } from '../types/endpoint.js'
import { scrubError } from '../util/secrets.js'
import { SampleWindow } from './sampleWindow.js'
import { createEndpointTransport } from './transport.js'

/** What an endpoint tells its pool, as it happens. */
export type EndpointHooks = {
  onBreaker(endpoint: Endpoint, state: BreakerState): void
  /** A WebSocket endpoint's connection dropped. */
  onConnection?(endpoint: Endpoint): void
  /** A WebSocket endpoint is about to try to reconnect after `delay` ms. */
  onReconnect?(endpoint: Endpoint, attempt: number, delay: number): void
}

type State = { -readonly [K in keyof EndpointView]: EndpointView[K] } & { samples: SampleWindow; unsupported: Map<string, number> }

// Weight of the newest sample in the latency average: ~5 samples dominate, so a recovering endpoint
// is believed quickly, one outlier is not.
const EWMA_ALPHA = 0.3

/**
 * One endpoint of a pool, and the one owner of its state: only the methods below change it, each
 * named for what happened (an attempt reserved, a success, a ping, a 429…). Everyone else reads
 * `view`, the same object typed read-only: no copy on the request path.
 */
export class Endpoint {
  readonly id: string
  readonly index: number
  readonly view: EndpointView
  readonly transport: Transport
  readonly #state: State
  readonly #breaker: Breaker
  /** The endpoint's request budget: configured `rateLimit`, lowered by 429s. */
  readonly #limiter: RateLimiter
  readonly #options: ResolvedPoolOptions
  readonly #ws: WsTransport | undefined

  constructor(config: ResolvedEndpoint, index: number, options: ResolvedPoolOptions, hooks: EndpointHooks, breakerWindow?: BreakerWindow) {
    this.#options = options
    this.id = config.id
    this.index = index
    // Without heartbeats nothing would ever verify the endpoint, so it is trusted from the start.
    const health: EndpointHealth = options.heartbeat ? 'connecting' : 'up'
    this.#state = {
      id: config.id,
      index,
      tier: config.tier,
      weight: config.weight,
      health,
      healthReason: undefined,
      restriction: undefined,
      restrictedUntil: 0,
      restrictionReason: undefined,
      status: health,
      chainId: undefined,
      head: undefined,
      answeredAt: 0,
      headAt: 0,
      missingFrom: undefined,
      unsupported: new Map(),
      chainCheckedAt: 0,
      lowerStreak: 0,
      fellBack: false,
      pingFailures: 0,
      generation: 0,
      breaker: 'closed',
      trialInFlight: false,
      inFlight: 0,
      effectiveWeight: config.weight,
      latencyEwma: undefined,
      consecutiveFailures: 0,
      lostRace: false,
      maxConcurrency: config.maxConcurrency,
      methods: config.methods,
      nextTokenAt: 0,
      requests: 0,
      successes: 0,
      failures: 0,
      lastError: undefined,
      samples: new SampleWindow(),
    }
    this.view = this.#state
    this.#limiter = new RateLimiter(config.rateLimit, options.clock.now())
    const { transport, ws, scrub } = createEndpointTransport(config, options)
    this.transport = transport
    this.#ws = ws
    if (ws) {
      // A dropped socket is news now, not at the next failed heartbeat: the endpoint is down until a
      // new connection has passed its handshake and a heartbeat has verified it again.
      ws.on('closed', (e) => {
        const reason = isResilientRpcError(e.reason) ? (scrub ? scrubError(e.reason, scrub) : e.reason) : undefined
        if (this.#state.health === 'up') this.setHealth('down', reason)
        hooks.onConnection?.(this)
      })
      ws.on('reconnect:attempt', (e) => hooks.onReconnect?.(this, e.attempt, e.delay))
    }
    this.#breaker = createBreaker(
      options.breaker,
      (state) => {
        this.#state.breaker = state
        hooks.onBreaker(this, state)
      },
      breakerWindow,
    )
  }

  // Requests.

  /**
   * Counts an attempt against the endpoint before it is sent (in the tick of its pick, so concurrent
   * picks see it) and takes a rate-limit token. Returns whether the attempt is a half-open breaker's
   * trial; `release(trial)` gives the slot back.
   */
  reserve(now: number): boolean {
    const s = this.#state
    const trial = s.breaker === 'half-open'
    if (trial) s.trialInFlight = true
    s.inFlight++
    s.requests++
    this.#limiter.take(now)
    this.#updateTokenAt(now)
    return trial
  }

  release(trial: boolean): void {
    this.#state.inFlight--
    if (trial) this.#state.trialInFlight = false
  }

  recordSuccess(latency: number, now: number): void {
    const s = this.#state
    s.answeredAt = now
    s.successes++
    s.consecutiveFailures = 0
    s.lostRace = false
    s.samples.push(latency)
    this.#observeLatency(latency)
    s.effectiveWeight = Math.min(s.weight, s.effectiveWeight + s.weight / 10)
    this.#breaker.recordSuccess()
  }

  /**
   * Records what a failed attempt says about this endpoint, per `classifyError`'s verdict.
   * `generation`: the endpoint's generation when the attempt was sent. A failure of an older one is
   * about a connection that has gone since (an attempt a hung endpoint held past its recovery): it is
   * counted, but not held against the endpoint — its breaker and weight judge the connection it has now.
   */
  recordError(verdict: EndpointVerdict, error: ResilientRpcError, now: number, sentAt = now, generation = this.#state.generation): void {
    if (verdict === 'neutral') return
    const s = this.#state
    s.failures++
    s.lastError = error
    s.samples.push(undefined)
    switch (verdict) {
      case 'failure':
        if (generation !== s.generation) return
        s.consecutiveFailures++
        s.effectiveWeight = Math.max(Math.min(1, s.weight), s.effectiveWeight - s.weight / 2)
        this.#breaker.recordFailure(error)
        return
      case 'rate-limited':
      case 'unauthorized':
        this.restrict(verdict, error, now, sentAt)
    }
  }

  /**
   * Its attempt lost a hedged race: no failure (the breaker hears nothing), but news of slowness —
   * the time it took is a latency sample, and selection ranks it after the others until it answers a
   * request or a heartbeat again. Without this a hanging endpoint stays the least loaded and keeps
   * being picked first.
   */
  recordLostRace(latency: number): void {
    this.#observeLatency(latency)
    this.#state.lostRace = true
  }

  /**
   * An answer showed the endpoint has block `block` (its `eth_blockNumber`, a block, receipt or log it
   * returned, a read pinned to that block): its known head rises to it. Returns whether it rose.
   * One at its known head says that head is still current (`headAt`); an older block says nothing.
   */
  sawHead(block: bigint, now: number): boolean {
    const s = this.#state
    if (s.head !== undefined && block <= s.head) {
      if (block === s.head) s.headAt = now
      return false
    }
    s.head = block
    s.headAt = now
    if (s.missingFrom !== undefined && block >= s.missingFrom) s.missingFrom = undefined
    return true
  }

  /**
   * The endpoint said it does not have `block` ("header not found", `null`). Above its known head that
   * means not synced yet: it is asked for that block last until its head reaches it. At or below
   * its head it is other data it lacks (pruned state, say), which says nothing about its head.
   */
  /** The endpoint said it does not serve `method`: asked for it only after the others until `until`. */
  lacksMethod(method: string, until: number): void {
    this.#state.unsupported.set(method, until)
  }

  lacks(block: bigint): void {
    const s = this.#state
    if (s.head !== undefined && block <= s.head) return
    if (s.missingFrom === undefined || block < s.missingFrom) s.missingFrom = block
  }

  /**
   * Takes the endpoint out for a while: a cool-down after a rate limit, or after 401/403. A rate
   * limit also lowers the endpoint's learned rate (`sentAt`: when the refused request went out).
   */
  restrict(verdict: 'rate-limited' | 'unauthorized', error: ResilientRpcError, now: number, sentAt = now): void {
    const s = this.#state
    if (verdict === 'rate-limited') {
      this.#limiter.rateLimited(now, sentAt)
      this.#updateTokenAt(now)
    }
    const { maxRetryAfter, rateLimitCooldown, unauthorizedCooldown } = this.#options
    const kind = verdict === 'rate-limited' ? 'cooldown' : 'unauthorized'
    const until = verdict === 'rate-limited' ? now + Math.min(maxRetryAfter, retryAfterOf(error) ?? rateLimitCooldown) : now + unauthorizedCooldown
    // A longer restriction already running is kept, whatever its kind: the endpoint asked for it.
    if (s.restriction !== undefined && now < s.restrictedUntil && until <= s.restrictedUntil) return
    s.restriction = kind
    s.restrictedUntil = until
    s.restrictionReason = error.shortMessage
    s.lastError = error
  }

  /** Lifts a restriction whose time is up; brings the rate-limit token time up to date. */
  refresh(now: number): void {
    const s = this.#state
    this.#updateTokenAt(now)
    if (s.restriction !== undefined && now >= s.restrictedUntil) {
      s.restriction = undefined
      s.restrictionReason = undefined
    }
  }

  /** The request budget now, as `stats()` shows it; `undefined` while unlimited. */
  rateBudget(now: number): RateBudget | undefined {
    return this.#limiter.budget(now)
  }

  // Health.

  /**
   * Takes a rate-limit token for a heartbeat, with priority: when none is there, the next one is
   * reserved for it (come back at `heartbeatTokenAt`), so a saturated endpoint's heartbeat is late by
   * one token interval at most and never pushes the endpoint past its rate.
   */
  takeHeartbeatToken(now: number): boolean {
    return this.#limiter.take(now, true)
  }

  heartbeatTokenAt(now: number): number {
    return this.#limiter.reservedAt(now)
  }

  /**
   * Requests are waiting for this endpoint: a WebSocket endpoint between connections tries its next
   * one now (at most one attempt per 250 ms). Returns whether a ping can reach the endpoint now —
   * `false` for a WebSocket without a connection, which a ping would only wait for.
   */
  hurry(): boolean {
    return this.#ws === undefined ? true : this.#ws.hurry()
  }

  /** A heartbeat read the endpoint's chain id. */
  setChainId(chainId: bigint, at: number): void {
    this.#state.chainId = chainId
    this.#state.chainCheckedAt = at
  }

  /**
   * A heartbeat read the endpoint's head in `latency` ms. `below`: the head is under the pool's
   * reference head (a reorg witness counts how long, and whether it went back meanwhile). A
   * half-open breaker's trial is this ping, not a user's request.
   */
  recordPing(head: bigint, latency: number, now: number, below: boolean): void {
    const s = this.#state
    this.#observeLatency(latency)
    s.lostRace = false
    s.pingFailures = 0
    s.answeredAt = now
    s.lowerStreak = below ? s.lowerStreak + 1 : 0
    s.fellBack = below && (s.fellBack || (s.head !== undefined && head < s.head))
    s.head = head
    s.headAt = now
    if (s.missingFrom !== undefined && head >= s.missingFrom) s.missingFrom = undefined
    if (s.breaker === 'half-open') this.#breaker.recordSuccess()
  }

  /** A heartbeat failed; returns the failures in a row. */
  recordPingFailure(error: ResilientRpcError): number {
    const s = this.#state
    s.lastError = error
    if (s.health === 'down') s.healthReason = error.shortMessage
    if (s.breaker === 'half-open') this.#breaker.recordFailure(error)
    return ++s.pingFailures
  }

  /** A reorg was settled: the witnesses start over. */
  forgetReorgWitness(): void {
    this.#state.lowerStreak = 0
    this.#state.fellBack = false
  }

  /** Why the endpoint waits while its health says `connecting` (shown in stats and errors). */
  waitingFor(reason: string): void {
    this.#state.healthReason = reason
  }

  /** Moves the connection-level health; going up or down starts a new generation. */
  setHealth(health: EndpointHealth, reason: ResilientRpcError | undefined): void {
    const s = this.#state
    if (reason) s.lastError = reason
    s.healthReason = reason?.shortMessage
    if (s.health === health) return
    s.health = health
    s.generation++
    if (health === 'up') {
      s.pingFailures = 0
      // A fresh connection starts with a clean slate: its old breaker history is about a connection that is gone.
      this.#breaker.close()
    }
  }

  /** Rare fatal bug in a heartbeat: kept as the endpoint's last error, for stats. */
  noteError(error: ResilientRpcError): void {
    this.#state.lastError = error
  }

  // Status.

  /** Derives the status from the state and the pool's reference head; returns the previous one when it changed. */
  updateStatus(now: number, referenceHead: bigint | undefined, judgeAhead: boolean): EndpointStatus | undefined {
    const s = this.#state
    const to = endpointStatus(s, now, referenceHead, this.#options.maxLag, judgeAhead)
    if (to === s.status) return undefined
    const from = s.status
    s.status = to
    return from
  }

  /** Blocks ahead of (> 0) or behind (< 0) `referenceHead`. */
  distance(referenceHead: bigint | undefined): bigint {
    return headDistance(this.#state.head, referenceHead)
  }

  destroy(): void {
    this.#breaker.destroy()
    void this.transport.destroy?.()
  }

  #observeLatency(latency: number): void {
    const s = this.#state
    s.latencyEwma = s.latencyEwma === undefined ? latency : s.latencyEwma + EWMA_ALPHA * (latency - s.latencyEwma)
  }

  #updateTokenAt(now: number): void {
    const at = this.#limiter.nextTokenAt(now)
    // 0 for "has a token": the state stays the same while nothing limits the endpoint.
    this.#state.nextTokenAt = at > now ? at : 0
  }
}
