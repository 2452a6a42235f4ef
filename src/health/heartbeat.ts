import type { HeartbeatOptions } from '../config/policyOptions.js'
import type { ResilientRpcError } from '../errors/base.js'
import { classifyError } from '../errors/classify.js'
import { ChainMismatchError, InvalidResponseError, NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import { TimeoutError } from '../errors/request.js'
import { withTimeout } from '../policy/timeout.js'
import type { EndpointHealth, EndpointView } from '../types/endpoint.js'
import { createAbortController } from '../util/abort.js'
import { unrefTimer, type Clock, type TimerHandle } from '../util/clock.js'
import { isQuantity } from '../util/hex.js'
import { sleep } from '../util/sleep.js'
import { BlockTime } from './blockTime.js'
import { CHAIN_ID_GRACE, chainInDoubt, decideChainId } from './chainConsensus.js'
import { EagerProbes } from './eagerProbes.js'
import { nextReferenceHead, type ReferenceHead } from './referenceHead.js'

/** What the heartbeat reads of an endpoint and tells it: the endpoint's own named methods, nothing more. */
export type MonitoredEndpoint = {
  readonly id: string
  readonly index: number
  readonly view: EndpointView
  readonly transport: { request(method: string, params: readonly unknown[], options: { signal: AbortSignal }): Promise<unknown> }
  refresh(now: number): void
  takeHeartbeatToken(now: number): boolean
  heartbeatTokenAt(now: number): number
  setChainId(chainId: bigint, at: number): void
  recordPing(head: bigint, latency: number, now: number, below: boolean): void
  recordPingFailure(error: ResilientRpcError): number
  restrict(verdict: 'rate-limited' | 'unauthorized', error: ResilientRpcError, now: number): void
  setHealth(health: EndpointHealth, reason: ResilientRpcError | undefined): void
  waitingFor(reason: string): void
  /** Requests wait for this endpoint: a WebSocket tries to connect now. Returns whether a ping can reach it now. */
  hurry(): boolean
  forgetReorgWitness(): void
  noteError(error: ResilientRpcError): void
}

/** What the heartbeat needs from its pool. */
export type HealthHost = {
  readonly endpoints: readonly MonitoredEndpoint[]
  readonly heartbeat: Required<HeartbeatOptions>
  /** The chain the pool serves, when configured. */
  readonly chainId: bigint | undefined
  readonly clock: Clock
  readonly random: () => number
  /** Endpoint state changed: recompute statuses, emit events, wake waiting requests. */
  changed(): void
  /** Whether a request is waiting for an endpoint now (see `HealthMonitor.demand`). */
  waiting(): boolean
  /**
   * The reference head went down: every live endpoint agreed on a lower head (`reorg`), or a head only
   * one endpoint had vouched for gave way to one two endpoints agree on.
   */
  lowered(e: { from: bigint; to: bigint; reorg: boolean }): void
  /** Without a configured chain id, the monitor settled on `chainId`, which `endpoints` (ids) reported. */
  adopted(e: { chainId: bigint; endpoints: string[] }): void
  /** Endpoints on `other` came to outnumber those on the adopted `chainId`: the pool's chain is in doubt, for good. */
  doubted(e: { chainId: bigint; other: bigint }): void
}

/**
 * The pool's background view of its endpoints: one heartbeat loop per endpoint (chain id on every new
 * connection, head and latency on every ping), the chain id the pool serves, and the reference head.
 * Never throws into a timer: every outcome, including bugs in a hook, ends in the loop's catch.
 */
export class HealthMonitor {
  chainId: bigint | undefined
  /** Set once endpoints on another chain outnumber those on the adopted one: nothing may be served. */
  doubt: { chainId: bigint; other: bigint } | undefined
  #reference: ReferenceHead = { head: undefined, confirmed: false }
  #confirmed: { head: bigint; at: number } | undefined
  readonly #blockTime = new BlockTime()
  /** A second opinion on the chain id is waited for this long after the first report, then not. */
  #grace: TimerHandle | undefined
  #graceOver = false
  readonly #configured: boolean
  readonly #host: HealthHost
  readonly #timers = new Map<MonitoredEndpoint, TimerHandle>()
  readonly #chainReports = new Map<number, bigint>()
  // Aborts every ping in flight on stop(): nothing of the monitor outlives it. A light controller
  // (src/util/abort.ts): every ping in flight listens to it, several per endpoint while requests wait,
  // and an EventTarget warns of a leak past ten listeners.
  readonly #stop = createAbortController()
  readonly #eager: EagerProbes<MonitoredEndpoint>

  constructor(host: HealthHost) {
    this.#host = host
    this.chainId = host.chainId
    this.#configured = host.chainId !== undefined
    this.#eager = new EagerProbes({
      clock: host.clock,
      unref: host.heartbeat.unref,
      waiting: () => host.waiting(),
      probeAt: (e, now) => this.#probeAt(e, now),
      probe: (e) => void this.#eagerProbe(e),
    })
  }

  get referenceHead(): bigint | undefined {
    return this.#reference.head
  }

  /**
   * The highest head the evidence confirms — two live endpoints reached it, or the only live one
   * reports it — and when it was last confirmed (clock ms). Never lowered but by a reorg or a head
   * that gave way (`lowered`).
   */
  get confirmed(): { head: bigint; at: number } | undefined {
    return this.#confirmed
  }

  /**
   * The chain's time per block (ms) as the confirmed head's advances show it (see BlockTime), erring
   * short; `undefined` until the confirmed head has advanced twice.
   */
  get blockTime(): number | undefined {
    return this.#blockTime.value
  }

  /**
   * An answer raised an endpoint's known head: the reference head follows as soon as the evidence
   * allows (the same rule as for pings). Returns whether the reference head moved.
   */
  headsMoved(): boolean {
    const before = this.#reference.head
    this.#updateReferenceHead()
    return this.#reference.head !== before
  }

  /**
   * An attempt on `endpoint` timed out and it has answered nothing since the attempt went out: as
   * telling as a failed ping, so it counts as one. A hung endpoint is down once `failuresToDown` are
   * in, not after as many heartbeats. A half-open breaker's trial is judged by the breaker alone.
   */
  unresponsive(endpoint: MonitoredEndpoint, error: ResilientRpcError): void {
    if (this.#stop.signal.aborted || endpoint.view.breaker === 'half-open') return
    this.#failed(endpoint, error)
  }

  start(): void {
    // The first round goes out at once (spread over a few ms), so a pool is usable as soon as possible.
    for (const e of this.#host.endpoints) this.#schedule(e, this.#host.random() * Math.min(50, this.#host.heartbeat.interval))
  }

  /**
   * A request is waiting for an endpoint: until none does, every endpoint that could come back is
   * probed every 250 ms (`EAGER_PROBE_INTERVAL`) rather than every `interval`.
   */
  demand(): void {
    this.#eager.demand(this.#host.endpoints)
  }

  stop(): void {
    this.#stop.abort()
    this.#eager.stop()
    for (const timer of this.#timers.values()) this.#host.clock.clearTimeout(timer)
    this.#timers.clear()
    if (this.#grace !== undefined) this.#host.clock.clearTimeout(this.#grace)
    this.#grace = undefined
  }

  #schedule(endpoint: MonitoredEndpoint, delay: number): void {
    if (this.#stop.signal.aborted || endpoint.view.health === 'quarantined') return
    const timer = this.#host.clock.setTimeout(() => {
      this.#timers.delete(endpoint)
      void this.#tick(endpoint)
    }, delay)
    if (this.#host.heartbeat.unref) unrefTimer(timer)
    this.#timers.set(endpoint, timer)
  }

  #nextDelay(): number {
    const { interval, jitter } = this.#host.heartbeat
    return interval * (1 - jitter + 2 * jitter * this.#host.random())
  }

  async #tick(endpoint: MonitoredEndpoint): Promise<void> {
    try {
      const now = this.#host.clock.now()
      endpoint.refresh(now)
      // A rate-limited or refused endpoint is left alone until its restriction ends: pinging it is
      // hammering it. An eager probe that has just gone out makes this ping redundant.
      if (endpoint.view.restriction === undefined && !this.#eager.recent(endpoint, now)) await this.#eager.run(endpoint, () => this.#ping(endpoint))
    } catch (error) {
      this.#bug(endpoint, error)
    }
    if (this.#stop.signal.aborted) return
    this.#changed()
    this.#schedule(endpoint, this.#nextDelay())
  }

  /** One probe while requests wait; the heartbeat's own loop goes on beside it. */
  async #eagerProbe(endpoint: MonitoredEndpoint): Promise<void> {
    try {
      // A WebSocket without a connection tries one now; a probe already waiting for it gets it first,
      // so the connection is not met by a burst of pings that all waited for it.
      if (!endpoint.hurry() && this.#eager.inFlight(endpoint) > 0) return
      // A probe is a request to the provider too: with no rate-limit token for it now, probes queued
      // behind the limit would only take each other's tokens. The next tick looks again.
      const now = this.#host.clock.now()
      if (endpoint.heartbeatTokenAt(now) > now) return
      await this.#eager.run(endpoint, () => this.#ping(endpoint), true)
    } catch (error) {
      this.#bug(endpoint, error)
    }
    if (this.#stop.signal.aborted) return
    // As after every ping: statuses recomputed, and the waiting requests woken if it is back.
    this.#changed()
  }

  // Only a bug gets here (#ping handles endpoint failures); the loops must survive it.
  #bug(endpoint: MonitoredEndpoint, error: unknown): void {
    endpoint.noteError(isResilientRpcError(error) ? error : new NetworkError({ cause: error, endpoint: endpoint.id, details: 'heartbeat failed unexpectedly' }))
  }

  /**
   * When a probe may bring `endpoint` back for waiting requests, if one can: down or not yet verified
   * (unless only the pool's chain-id decision holds it), or up with a half-open breaker whose trial the
   * probe is. Never before a cool-down ends (a 429's Retry-After, a 401): probing it then is hammering it.
   */
  #probeAt(endpoint: MonitoredEndpoint, now: number): number | undefined {
    const v = endpoint.view
    if (v.health === 'quarantined' || (v.health === 'up' && v.breaker !== 'half-open')) return undefined
    // Its chain id is in and only the pool's decision holds it (a second opinion): no probe hastens that.
    if (v.health === 'connecting' && v.chainId !== undefined && this.chainId === undefined) return undefined
    return v.restriction === undefined ? now : Math.max(now, v.restrictedUntil)
  }

  async #ping(endpoint: MonitoredEndpoint): Promise<void> {
    const v = endpoint.view
    const { clock, heartbeat } = this.#host
    const generation = v.generation
    const start = clock.now()
    // A ping from an older generation must not act on the endpoint's new state.
    const stale = () => v.generation !== generation || this.#stop.signal.aborted
    try {
      // 1. A new connection proves its chain before it counts as up, on every reconnection, and an
      // endpoint that is up proves it again now and then.
      const recheck = v.health === 'up' && start - v.chainCheckedAt >= heartbeat.chainCheckInterval
      if (v.health !== 'up' || recheck) {
        const chainId = parseQuantity(await this.#call(endpoint, 'eth_chainId'), 'eth_chainId', endpoint)
        if (stale()) return
        endpoint.setChainId(chainId, start)
        this.#chainReports.set(endpoint.index, chainId)
        this.#checkDoubt()
        if (recheck && this.chainId !== undefined && chainId !== this.chainId) {
          this.#verify(endpoint)
          this.#updateReferenceHead()
          return
        }
      }
      // 2. Head and latency.
      const head = parseQuantity(await this.#call(endpoint, 'eth_blockNumber'), 'eth_blockNumber', endpoint)
      if (stale()) return
      const now = clock.now()
      endpoint.recordPing(head, now - start, now, this.referenceHead !== undefined && head < this.referenceHead)
      if (v.health !== 'up') this.#admit(endpoint)
      this.#updateReferenceHead()
    } catch (thrown) {
      if (stale()) return
      const error = isResilientRpcError(thrown) ? thrown : new NetworkError({ cause: thrown, endpoint: endpoint.id })
      const { verdict } = classifyError(error)
      if (verdict === 'rate-limited' || verdict === 'unauthorized') return endpoint.restrict(verdict, error, clock.now())
      this.#failed(endpoint, error)
    }
  }

  /** A ping failed, or an attempt said as much (`unresponsive`): `failuresToDown` in a row take the endpoint down. */
  #failed(endpoint: MonitoredEndpoint, error: ResilientRpcError): void {
    const failures = endpoint.recordPingFailure(error)
    const { health } = endpoint.view
    if ((health === 'up' || health === 'connecting') && failures >= this.#host.heartbeat.failuresToDown) {
      endpoint.setHealth('down', error)
      this.#updateReferenceHead()
    }
  }

  /** Lets a verified endpoint serve, or quarantines it; may settle the pool's chain id for the others too. */
  #admit(endpoint: MonitoredEndpoint): void {
    if (this.chainId === undefined && !this.#decide()) {
      // The first report starts the grace: a second opinion is welcome, not required.
      this.#startGrace()
      return endpoint.waitingFor(this.#waitingReason())
    }
    this.#verify(endpoint)
  }

  /**
   * Settles the pool's chain id if the reports allow it (see decideChainId), tells the host, and lets
   * the endpoints that were waiting for the decision in (or quarantines them). Returns whether it is settled.
   */
  #decide(): boolean {
    const chainId = decideChainId(undefined, this.#chainReports, this.#host.endpoints.length, this.#graceOver)
    if (chainId === undefined) return false
    this.chainId = chainId
    const endpoints = this.#host.endpoints.filter((e) => this.#chainReports.get(e.index) === chainId).map((e) => e.id)
    this.#host.adopted({ chainId, endpoints })
    for (const e of this.#host.endpoints) if (e.view.health === 'connecting' && e.view.head !== undefined) this.#verify(e)
    this.#checkDoubt()
    return true
  }

  #startGrace(): void {
    if (this.#grace !== undefined || this.#graceOver) return
    const { clock, heartbeat } = this.#host
    this.#grace = clock.setTimeout(() => {
      this.#grace = undefined
      this.#graceOver = true
      if (this.#stop.signal.aborted || this.chainId !== undefined) return
      if (!this.#decide()) {
        for (const e of this.#host.endpoints) if (e.view.health === 'connecting' && e.view.head !== undefined) e.waitingFor(this.#waitingReason())
      }
      this.#changed()
    }, CHAIN_ID_GRACE)
    if (heartbeat.unref) unrefTimer(this.#grace)
  }

  #waitingReason(): string {
    const reported = [...new Set(this.#chainReports.values())]
    if (!this.#graceOver) return `waiting up to ${CHAIN_ID_GRACE} ms for a second endpoint to confirm chain id ${reported.join(' or ')}`
    return `endpoints disagree on the chain id (${reported.join(' vs ')}): set chainId`
  }

  /** Without a configured chain id, more endpoints on another chain than on the adopted one put the pool in doubt. */
  #checkDoubt(): void {
    if (this.#configured || this.chainId === undefined || this.doubt !== undefined) return
    const other = chainInDoubt(this.chainId, this.#chainReports)
    if (other === undefined) return
    this.doubt = { chainId: this.chainId, other }
    this.#host.doubted(this.doubt)
  }

  #changed(): void {
    try {
      this.#host.changed()
    } catch {
      // Hooks emit to user listeners, which the pool already isolates; nothing may stop the loop.
    }
  }

  #verify(endpoint: MonitoredEndpoint): void {
    const { chainId } = endpoint.view
    if (chainId === undefined || this.chainId === undefined) return
    if (chainId === this.chainId) return endpoint.setHealth('up', undefined)
    endpoint.setHealth('quarantined', new ChainMismatchError(this.chainId, chainId, { endpoint: endpoint.id }))
    const timer = this.#timers.get(endpoint)
    if (timer !== undefined) this.#host.clock.clearTimeout(timer)
    this.#timers.delete(endpoint)
  }

  #updateReferenceHead(): void {
    // An endpoint in a cool-down is not pinged: its head is as old as the cool-down, so it has no vote,
    // nor once the cool-down is over until a ping reads its head again (a stale head would vote the
    // reference head down in that gap, and confirmation-depth reads with it).
    const live = this.#host.endpoints
      .map((e) => e.view)
      .filter((v) => v.health === 'up' && v.head !== undefined && v.headAt >= v.restrictedUntil)
      .map((v) => ({ head: v.head!, lowerStreak: v.lowerStreak, fellBack: v.fellBack }))
    const { head, confirmed, reorg, corrected } = nextReferenceHead(this.#reference, live)
    this.#reference = { head, confirmed }
    if (reorg) for (const e of this.#host.endpoints) e.forgetReorgWitness()
    const lowered = reorg ?? corrected
    // Confirmed: vouched for by two endpoints, or by the only one alive (no second opinion exists).
    if (head !== undefined && (confirmed || live.length === 1) && (lowered || this.#confirmed === undefined || head >= this.#confirmed.head)) {
      this.#confirmed = { head, at: this.#host.clock.now() }
    } else if (lowered && this.#confirmed !== undefined && this.#confirmed.head > lowered.to) {
      this.#confirmed = { head: lowered.to, at: this.#confirmed.at }
    }
    if (this.#confirmed !== undefined) this.#blockTime.observe(this.#confirmed.head, this.#host.clock.now())
    if (lowered) this.#host.lowered({ ...lowered, reorg: reorg !== undefined })
  }

  async #call(endpoint: MonitoredEndpoint, method: string): Promise<unknown> {
    const { clock, heartbeat } = this.#host
    await this.#token(endpoint)
    return withTimeout((signal) => endpoint.transport.request(method, [], { signal }), {
      timeout: heartbeat.timeout,
      signal: this.#stop.signal,
      clock,
      onTimeout: () => new TimeoutError('attempt', heartbeat.timeout, { endpoint: endpoint.id, details: `heartbeat ${method}` }),
    })
  }

  /** A ping is a request to the provider too: it draws from the endpoint's rate limit, with priority. */
  async #token(endpoint: MonitoredEndpoint): Promise<void> {
    const { clock } = this.#host
    while (!endpoint.takeHeartbeatToken(clock.now())) {
      await sleep(endpoint.heartbeatTokenAt(clock.now()) - clock.now(), { signal: this.#stop.signal, clock })
    }
  }
}

function parseQuantity(value: unknown, method: string, endpoint: MonitoredEndpoint): bigint {
  if (isQuantity(value)) return BigInt(value)
  throw new InvalidResponseError(`${method} returned ${JSON.stringify(value)?.slice(0, 40)}, expected a hex quantity`, { endpoint: endpoint.id })
}
