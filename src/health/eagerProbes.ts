import { EAGER_PROBE_INTERVAL } from '../config/defaults.js'
import { timerDelay, unrefTimer, type Clock, type TimerHandle } from '../util/clock.js'

/** What eager probing needs from the health monitor. */
export type EagerHost<E> = {
  readonly clock: Clock
  readonly unref: boolean
  /** Whether a request is waiting for an endpoint now. */
  waiting(): boolean
  /**
   * When `endpoint` may be probed, if a probe could bring it back (down, connecting, a half-open
   * breaker): `now`, or the end of a cool-down it is in; `undefined` when no probe would help.
   */
  probeAt(endpoint: E, now: number): number | undefined
  /** Starts one probe of `endpoint` (through `run`), without waiting for it. */
  probe(endpoint: E): void
}

/**
 * Recovery on demand: while a request waits for an endpoint, every endpoint that could come back is
 * probed every `EAGER_PROBE_INTERVAL` (250 ms) instead of every heartbeat interval, so the waiting
 * requests are served within a few hundred milliseconds of an endpoint recovering. A probe runs
 * under its own timeout and is not waited for: one held by a hung endpoint does not hold back the
 * next. Nobody waiting, nothing eager: a dead endpoint no request needs hears from the heartbeat alone.
 */
export class EagerProbes<E> {
  readonly #host: EagerHost<E>
  readonly #timers = new Map<E, TimerHandle>()
  /** When each endpoint's latest probe (eager or the heartbeat's own) started: eager ones keep their distance from it. */
  readonly #startedAt = new Map<E, number>()
  /** When each endpoint's latest eager probe started. */
  readonly #eagerAt = new Map<E, number>()
  readonly #inFlight = new Map<E, number>()
  #stopped = false

  constructor(host: EagerHost<E>) {
    this.#host = host
  }

  /**
   * A request is waiting for an endpoint: each endpoint that could come back and has no eager probe
   * scheduled gets one now, or `EAGER_PROBE_INTERVAL` after its previous probe started, or when its
   * cool-down ends, whichever is last. Called on every
   * wait (each wake of a waiting request included), so an endpoint that becomes worth probing while
   * requests already wait — a breaker turning half-open — is found promptly. Cheap when nothing changed.
   */
  demand(endpoints: readonly E[]): void {
    if (this.#stopped) return
    const now = this.#host.clock.now()
    for (const e of endpoints) {
      if (this.#timers.has(e)) continue
      const at = this.#host.probeAt(e, now)
      if (at !== undefined) this.#arm(e, Math.max(at, this.#spaced(e)) - now)
    }
  }

  /**
   * Whether an eager probe of `endpoint` started less than `EAGER_PROBE_INTERVAL` ago: the heartbeat's
   * own ping would learn nothing new. (Only an eager one: a heartbeat interval under 250 ms is kept.)
   */
  recent(endpoint: E, now: number): boolean {
    return now < (this.#eagerAt.get(endpoint) ?? -Infinity) + EAGER_PROBE_INTERVAL
  }

  /** Probes of `endpoint` started and not finished. */
  inFlight(endpoint: E): number {
    return this.#inFlight.get(endpoint) ?? 0
  }

  /** Runs one probe of `endpoint` (`eager`: one of ours): its start spaces the next eager one, and it counts in flight until it ends. */
  async run(endpoint: E, probe: () => Promise<void>, eager = false): Promise<void> {
    const now = this.#host.clock.now()
    this.#startedAt.set(endpoint, now)
    if (eager) this.#eagerAt.set(endpoint, now)
    this.#inFlight.set(endpoint, this.inFlight(endpoint) + 1)
    try {
      await probe()
    } finally {
      this.#inFlight.set(endpoint, this.inFlight(endpoint) - 1)
    }
  }

  stop(): void {
    this.#stopped = true
    for (const timer of this.#timers.values()) this.#host.clock.clearTimeout(timer)
    this.#timers.clear()
  }

  /** The earliest time the next probe of `endpoint` may start. */
  #spaced(endpoint: E): number {
    return (this.#startedAt.get(endpoint) ?? -Infinity) + EAGER_PROBE_INTERVAL
  }

  #arm(endpoint: E, delay: number): void {
    const timer = this.#host.clock.setTimeout(() => this.#fire(endpoint), timerDelay(delay))
    if (this.#host.unref) unrefTimer(timer)
    this.#timers.set(endpoint, timer)
  }

  // Re-arms itself only while requests wait and the endpoint is still worth probing: when demand
  // ends, or the endpoint is back, the heartbeat's interval is all that is left.
  #fire(endpoint: E): void {
    this.#timers.delete(endpoint)
    if (this.#stopped || !this.#host.waiting()) return
    const now = this.#host.clock.now()
    const at = this.#host.probeAt(endpoint, now)
    if (at === undefined) return
    // Not before a cool-down that began since this was armed (a probe's 429), nor within 250 ms of the
    // heartbeat's own ping, which a timer firing late on a loaded machine may have let go first.
    const next = Math.max(at, this.#spaced(endpoint))
    if (next > now) return this.#arm(endpoint, next - now)
    this.#host.probe(endpoint)
    this.#arm(endpoint, EAGER_PROBE_INTERVAL)
  }
}
