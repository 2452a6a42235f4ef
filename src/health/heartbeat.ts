import { classifyError } from '../errors/classify.js'
import { ChainMismatchError, InvalidResponseError, NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import { TimeoutError } from '../errors/request.js'
import { withTimeout } from '../policy/timeout.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import type { ResolvedPoolOptions } from '../config/poolOptions.js'
import { unrefTimer, type TimerHandle } from '../util/clock.js'
import { sleep } from '../util/sleep.js'
import { decideChainId } from './chainConsensus.js'
import { nextReferenceHead, type ReferenceHead } from './referenceHead.js'
import { isQuantity } from '../util/hex.js'
import type { HeartbeatOptions } from '../config/policyOptions.js'

export type HealthHooks = {
  /** Endpoint state changed: recompute statuses, emit events, wake waiting requests. */
  changed(): void
  /**
   * The reference head went down: every live endpoint agreed on a lower head (`reorg`), or a head only
   * one endpoint had vouched for gave way to one two endpoints agree on.
   */
  lowered(e: { from: bigint; to: bigint; reorg: boolean }): void
}

/**
 * The pool's background view of its endpoints: one heartbeat loop per endpoint (chain id on every new
 * connection, head and latency on every ping), the chain id the pool serves, and the reference head.
 * Never throws into a timer: every outcome, including bugs in a hook, ends in the loop's catch.
 */
export class HealthMonitor {
  chainId: bigint | undefined
  #reference: ReferenceHead = { head: undefined, confirmed: false }
  readonly #endpoints: readonly Endpoint[]
  readonly #options: ResolvedPoolOptions
  readonly #heartbeat: Required<HeartbeatOptions>
  readonly #hooks: HealthHooks
  readonly #timers = new Map<Endpoint, TimerHandle>()
  readonly #chainReports = new Map<number, bigint>()
  // Aborts every ping in flight on stop(): nothing of the monitor outlives it.
  readonly #stop = new AbortController()

  constructor(endpoints: readonly Endpoint[], options: ResolvedPoolOptions, heartbeat: Required<HeartbeatOptions>, hooks: HealthHooks) {
    this.#endpoints = endpoints
    this.#options = options
    this.#heartbeat = heartbeat
    this.#hooks = hooks
    this.chainId = options.chainId
  }

  get referenceHead(): bigint | undefined {
    return this.#reference.head
  }

  start(): void {
    // The first round goes out at once (spread over a few ms), so a pool is usable as soon as possible.
    for (const e of this.#endpoints) this.#schedule(e, this.#options.random() * Math.min(50, this.#heartbeat.interval))
  }

  stop(): void {
    this.#stop.abort()
    for (const timer of this.#timers.values()) this.#options.clock.clearTimeout(timer)
    this.#timers.clear()
  }

  #schedule(endpoint: Endpoint, delay: number): void {
    if (this.#stop.signal.aborted || endpoint.record.health === 'quarantined') return
    const timer = this.#options.clock.setTimeout(() => {
      this.#timers.delete(endpoint)
      void this.#tick(endpoint)
    }, delay)
    if (this.#heartbeat.unref) unrefTimer(timer)
    this.#timers.set(endpoint, timer)
  }

  #nextDelay(): number {
    const { interval, jitter } = this.#heartbeat
    return interval * (1 - jitter + 2 * jitter * this.#options.random())
  }

  async #tick(endpoint: Endpoint): Promise<void> {
    const r = endpoint.record
    try {
      const now = this.#options.clock.now()
      endpoint.refresh(now)
      // A rate-limited or refused endpoint is left alone until its restriction ends: pinging it is hammering it.
      if (r.restriction === undefined) await this.#ping(endpoint)
    } catch (error) {
      // Only a bug gets here (#ping handles endpoint failures); the loop must survive it.
      r.lastError = isResilientRpcError(error) ? error : new NetworkError({ cause: error, endpoint: endpoint.id, details: 'heartbeat failed unexpectedly' })
    }
    if (this.#stop.signal.aborted) return
    try {
      this.#hooks.changed()
    } catch {
      // Hooks emit to user listeners, which the pool already isolates; nothing may stop the loop.
    }
    this.#schedule(endpoint, this.#nextDelay())
  }

  async #ping(endpoint: Endpoint): Promise<void> {
    const r = endpoint.record
    const generation = r.generation
    const start = this.#options.clock.now()
    try {
      // 1. A new connection proves its chain before it counts as up, on every reconnection, and an
      // endpoint that is up proves it again now and then.
      const recheck = r.health === 'up' && start - r.chainCheckedAt >= this.#heartbeat.chainCheckInterval
      if (r.health !== 'up' || recheck) {
        const chainId = parseQuantity(await this.#call(endpoint, 'eth_chainId'), 'eth_chainId', endpoint)
        if (r.generation !== generation || this.#stop.signal.aborted) return
        r.chainId = chainId
        r.chainCheckedAt = start
        this.#chainReports.set(r.index, chainId)
        if (recheck && this.chainId !== undefined && chainId !== this.chainId) {
          this.#verify(endpoint)
          this.#updateReferenceHead()
          return
        }
      }
      // 2. Head and latency.
      const head = parseQuantity(await this.#call(endpoint, 'eth_blockNumber'), 'eth_blockNumber', endpoint)
      // A ping from an older generation must not act on the endpoint's new state.
      if (r.generation !== generation || this.#stop.signal.aborted) return
      endpoint.observeLatency(this.#options.clock.now() - start)
      // It answers again in time: no longer the slow one of a hedged race.
      r.lostRace = false
      r.pingFailures = 0
      const below = this.referenceHead !== undefined && head < this.referenceHead
      r.lowerStreak = below ? r.lowerStreak + 1 : 0
      r.fellBack = below && (r.fellBack || (r.head !== undefined && head < r.head))
      r.head = head
      r.headAt = this.#options.clock.now()
      // The heartbeat, not a user's request, is the half-open breaker's trial.
      if (r.breaker === 'half-open') endpoint.breaker.recordSuccess()
      if (r.health !== 'up') this.#admit(endpoint)
      this.#updateReferenceHead()
    } catch (thrown) {
      if (r.generation !== generation || this.#stop.signal.aborted) return
      const error = isResilientRpcError(thrown) ? thrown : new NetworkError({ cause: thrown, endpoint: endpoint.id })
      const { verdict } = classifyError(error)
      if (verdict === 'rate-limited' || verdict === 'unauthorized') return endpoint.restrict(verdict, error, this.#options.clock.now())
      r.lastError = error
      r.pingFailures++
      if (r.breaker === 'half-open') endpoint.breaker.recordFailure(error)
      if ((r.health === 'up' || r.health === 'connecting') && r.pingFailures >= this.#heartbeat.failuresToDown) {
        endpoint.setHealth('down', error)
        this.#updateReferenceHead()
      } else if (r.health === 'down') {
        r.healthReason = error.shortMessage
      }
    }
  }

  /** Lets a verified endpoint serve, or quarantines it; may settle the pool's chain id for the others too. */
  #admit(endpoint: Endpoint): void {
    if (this.chainId === undefined) {
      this.chainId = decideChainId(undefined, this.#chainReports, this.#endpoints.length)
      if (this.chainId === undefined) {
        endpoint.record.healthReason = 'waiting for a second endpoint to confirm the chain id'
        return
      }
      // The decision may settle endpoints that were waiting for it.
      for (const other of this.#endpoints) if (other !== endpoint && other.record.health === 'connecting' && other.record.head !== undefined) this.#verify(other)
    }
    this.#verify(endpoint)
  }

  #verify(endpoint: Endpoint): void {
    const { chainId } = endpoint.record
    if (chainId === undefined || this.chainId === undefined) return
    if (chainId === this.chainId) return endpoint.setHealth('up', undefined)
    endpoint.setHealth('quarantined', new ChainMismatchError(this.chainId, chainId, { endpoint: endpoint.id }))
    const timer = this.#timers.get(endpoint)
    if (timer !== undefined) this.#options.clock.clearTimeout(timer)
    this.#timers.delete(endpoint)
  }

  #updateReferenceHead(): void {
    // An endpoint in a cool-down is not pinged: its head is as old as the cool-down, so it has no vote,
    // nor once the cool-down is over until a ping reads its head again (the chaos matrix caught a
    // stale head voting the reference head down in that gap, and confirmation-depth reads with it).
    const live = this.#endpoints
      .filter((e) => e.record.health === 'up' && e.record.head !== undefined && e.record.headAt >= e.record.restrictedUntil)
      .map((e) => ({ head: e.record.head!, lowerStreak: e.record.lowerStreak, fellBack: e.record.fellBack }))
    const { head, confirmed, reorg, corrected } = nextReferenceHead(this.#reference, live)
    this.#reference = { head, confirmed }
    if (reorg) {
      for (const e of this.#endpoints) {
        e.record.lowerStreak = 0
        e.record.fellBack = false
      }
    }
    const lowered = reorg ?? corrected
    if (lowered) this.#hooks.lowered({ ...lowered, reorg: reorg !== undefined })
  }

  async #call(endpoint: Endpoint, method: string): Promise<unknown> {
    const { timeout } = this.#heartbeat
    await this.#token(endpoint)
    return withTimeout((signal) => endpoint.transport.request(method, [], { signal }), {
      timeout,
      signal: this.#stop.signal,
      clock: this.#options.clock,
      onTimeout: () => new TimeoutError('attempt', timeout, { endpoint: endpoint.id, details: `heartbeat ${method}` }),
    })
  }

  /**
   * A ping is a request to the provider too: it draws from the endpoint's rate limit, with priority
   * (the next token is reserved for it), so a saturated endpoint's heartbeat is late by at most one
   * token interval and never pushes the endpoint past its rate.
   */
  async #token(endpoint: Endpoint): Promise<void> {
    const { clock } = this.#options
    while (!endpoint.limiter.take(clock.now(), true)) {
      await sleep(endpoint.limiter.reservedAt(clock.now()) - clock.now(), { signal: this.#stop.signal, clock })
    }
  }
}

function parseQuantity(value: unknown, method: string, endpoint: Endpoint): bigint {
  if (isQuantity(value)) return BigInt(value)
  throw new InvalidResponseError(`${method} returned ${JSON.stringify(value)?.slice(0, 40)}, expected a hex quantity`, { endpoint: endpoint.id })
}
