import { exclusionReason, headBounds, limitReason, saidNoMethod, type EligibilityContext } from '../balancer/eligibility.js'
import { selectEndpoint, type SelectContext, type Selection } from '../balancer/select.js'
import type { EndpointExclusion } from '../errors/base.js'
import { QueueFullError } from '../errors/request.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import { LimitQueue } from '../policy/bulkhead.js'
import { timerDelay, type Clock } from '../util/clock.js'
import type { Call } from './call.js'
import { eligibilityOf, judgeAhead, referenceHead, type PoolCore } from './core.js'

/**
 * Chooses and reserves an endpoint for each attempt, and makes a call wait (until its deadline) while
 * none can take it. Owns the balancing state (the least-connections cursor, the smooth round-robin
 * counters) and the two ways of waiting: for an endpoint to come back (any change wakes every
 * waiter), and in line for an endpoint under its own limits (only the head of the queue is woken).
 */
export class Dispatcher {
  readonly #core: PoolCore
  readonly #queue: LimitQueue
  readonly #waiters = new Set<() => void>()
  /** Calls in a retry's back-off: woken only when no endpoint could take a request any more. */
  readonly #backingOff = new Set<() => void>()
  readonly #currentWeights: number[]
  #cursor = 0
  /** Requests waiting for an endpoint now, in either way. */
  #waiting = 0
  /** `headBounds` of the reference head it was worked out for: recomputed only when that moves. */
  #bounds: { referenceHead: bigint | undefined; bounds: readonly [bigint, bigint] | undefined } = { referenceHead: undefined, bounds: undefined }

  constructor(core: PoolCore) {
    this.#core = core
    this.#queue = new LimitQueue(core.clock)
    this.#currentWeights = core.endpoints.map(() => 0)
  }

  /**
   * Picks and reserves an endpoint for the next attempt if one can take it now and nobody queues
   * before it: the common case, without the promise of `acquire`. `undefined` otherwise.
   */
  pickNow(call: Call): Endpoint | undefined {
    if (this.#queue.size > 0) return undefined
    const now = this.#core.clock.now()
    this.#refresh(now)
    const selection = selectEndpoint(this.#core.views, this.#selectContext(call, now))
    if (selection.kind !== 'picked') return undefined
    call.waitingOn = undefined
    return this.#apply(selection, call, now)
  }

  /** Picks and reserves an endpoint for the next attempt, waiting (until `signal` aborts) while none can take it. */
  async acquire(call: Call, signal: AbortSignal): Promise<Endpoint> {
    const { clock, options } = this.#core
    // Place in the queue of requests waiting on endpoints' limits, once this request has one.
    let ticket: number | undefined
    for (;;) {
      signal.throwIfAborted()
      const now = clock.now()
      this.#refresh(now)
      const selection = selectEndpoint(this.#core.views, this.#selectContext(call, now))
      // A newcomer does not jump the queue: the capacity it found goes to the head, and it queues.
      const barging = selection.kind === 'picked' && ticket === undefined && this.#queue.size > 0
      if (selection.kind === 'picked' && !barging) {
        call.waitingOn = undefined
        const endpoint = this.#apply(selection, call, now)
        // There may be capacity for the next waiter too (a burst of tokens, several free slots).
        if (ticket !== undefined) this.#queue.wakeHead()
        return endpoint
      }
      if (selection.kind === 'none') call.waitingOn = selection.excluded
      if (barging || (selection.kind === 'none' && selection.limited)) {
        // Waiting for an endpoint under its own limits is queueing, bounded by maxQueue; waiting for one to come back is not.
        if (ticket === undefined && this.#queue.size >= options.maxQueue) throw new QueueFullError(options.maxQueue, selection.kind === 'none' ? selection.excluded : [])
        ticket ??= this.#queue.ticket()
        const at = selection.kind === 'none' ? selection.retryAt : undefined
        const waiting = this.#queue.wait(ticket, at, signal)
        if (barging) this.#queue.wakeHead()
        await this.#demanding(waiting)
        continue
      }
      if (selection.kind === 'picked') continue
      await this.#demanding(this.#waitForChange(signal, selection.retryAt === undefined ? undefined : selection.retryAt - now))
    }
  }

  /** Whether a request is waiting for an endpoint now: the heartbeat probes eagerly while one is. */
  get waiting(): boolean {
    return this.#waiting > 0
  }

  /**
   * A retry's back-off: `ms` on the timer wheel, which protects the endpoints the call has tried. It
   * ends early once no endpoint could take the call (an outage, breakers open, cool-downs): the call
   * then waits in `acquire` for one to come back, which makes the heartbeat probe eagerly, and takes
   * the first that does — proved by a probe or released by its own cool-down, so the back-off
   * would only delay it. Rejects with `signal.reason`.
   */
  async backOff(call: Call, ms: number, signal: AbortSignal): Promise<void> {
    const { timers } = this.#core
    const until = timers.now() + ms
    for (;;) {
      signal.throwIfAborted()
      const left = until - timers.now()
      if (left <= 0 || !this.#hasEligible(this.eligibility(call))) return
      // Woken early when no endpoint is left (a breaker opens a few microtasks after the failure
      // that began this back-off); only then, or a back-off storm would wake on every attempt's end.
      await this.#waitForChange(signal, left, timers, this.#backingOff)
    }
  }

  #hasEligible(ctx: EligibilityContext): boolean {
    const now = this.#core.clock.now()
    for (const v of this.#core.views) if (exclusionReason(v, now, ctx) === undefined) return true
    return false
  }

  // Each wait (each wake that finds nothing included) tells the heartbeat, so an endpoint that becomes
  // worth probing while requests already wait is probed at once.
  async #demanding(wait: Promise<void>): Promise<void> {
    this.#waiting++
    this.#core.health?.demand()
    try {
      await wait
    } finally {
      this.#waiting--
    }
  }

  /** Picks and reserves an endpoint other than `avoid` (a hedge), without waiting. */
  tryAcquire(call: Call, avoid: Endpoint): Endpoint | undefined {
    const now = this.#core.clock.now()
    this.#refresh(now)
    const selection = selectEndpoint(this.#core.views, this.#selectContext(call, now))
    if (selection.kind !== 'picked' || selection.index === avoid.index) return undefined
    return this.#apply(selection, call, now)
  }

  /**
   * Keeps a pick's balancing state and reserves its endpoint, in the same tick as the pick: requests
   * picking concurrently must see each other's in-flight counts, or least-connections sends them all
   * to one endpoint.
   */
  #apply(selection: Extract<Selection, { kind: 'picked' }>, call: Call, now: number): Endpoint {
    this.#cursor = selection.cursor
    for (let k = 0; k < selection.currentWeights.length; k++) {
      const [i, w] = selection.currentWeights[k]!
      this.#currentWeights[i] = w
    }
    return this.reserve(this.#core.endpoints[selection.index]!, call, now)
  }

  /** Counts an attempt of `call` against `endpoint` before it is sent; the attempt's end gives it back. */
  reserve(endpoint: Endpoint, call: Call, now = this.#core.clock.now()): Endpoint {
    call.trial = endpoint.reserve(now)
    call.tried.push(endpoint.index)
    call.avoid?.add(endpoint.index)
    return endpoint
  }

  /** Endpoints that could take `call` now, limits included: a broadcast sends each of them a copy. */
  takersNow(call: Call): Endpoint[] {
    const now = this.#core.clock.now()
    this.#refresh(now)
    const ctx = this.eligibility(call)
    return this.#core.endpoints.filter((e) => exclusionReason(e.view, now, ctx) === undefined && limitReason(e.view, now) === undefined)
  }

  /** Whether an endpoint `call` has not tried could take it now: failing over to it needs no back-off. */
  hasUntried(call: Call): boolean {
    const now = this.#core.clock.now()
    const ctx = this.eligibility(call)
    const views = this.#core.views
    for (let i = 0; i < views.length; i++) if (!call.tried.includes(i) && exclusionReason(views[i]!, now, ctx) === undefined) return true
    return false
  }

  /**
   * When no endpoint's `methods` option lets it take the call's method, why each is out (for
   * NO_ENDPOINT at once); `undefined` as a rule. Allocates only for a pool that uses the option.
   */
  noneConfiguredFor(call: Call): EndpointExclusion[] | undefined {
    const views = this.#core.views
    for (const v of views) if (v.methods === undefined || v.methods.names.has(call.method) === v.methods.serves) return undefined
    return views.map((v) => ({ endpoint: v.id, reason: `not asked for ${call.method} (its \`methods\` option)` }))
  }

  /** Whether any endpoint could take `call` now (limits aside). */
  hasTaker(call: Call): boolean {
    return this.#hasEligible(this.eligibility(call))
  }

  /**
   * Whether an endpoint `call` has not tried, and that has not said it does not serve the call's method,
   * could take it now (limits aside): after a "method not found", whether asking another is worth it.
   */
  hasServer(call: Call): boolean {
    const now = this.#core.clock.now()
    const ctx = this.eligibility(call)
    const views = this.#core.views
    for (let i = 0; i < views.length; i++) {
      if (!call.tried.includes(i) && !saidNoMethod(views[i]!, call.method, now) && exclusionReason(views[i]!, now, ctx) === undefined) return true
    }
    return false
  }

  /** Whether an endpoint that has not told `call` it lacks its block could take it now (limits aside). */
  hasOther(call: Call): boolean {
    const now = this.#core.clock.now()
    const ctx = this.eligibility(call)
    const views = this.#core.views
    for (let i = 0; i < views.length; i++) if (!call.lacking?.has(i) && exclusionReason(views[i]!, now, ctx) === undefined) return true
    return false
  }

  /** Why each endpoint could not take a request now (`undefined` for those that could). */
  exclusions(now: number, call?: Call): Array<EndpointExclusion | undefined> {
    const ctx = this.eligibility(call)
    return this.#core.views.map((v) => {
      const reason = exclusionReason(v, now, ctx)
      return reason === undefined ? undefined : { endpoint: v.id, reason }
    })
  }

  /** What decides eligibility besides the endpoint: the call's block, the reference head, the pool's settings. */
  eligibility(call: Call | undefined): EligibilityContext {
    return eligibilityOf(this.#core, call?.target, call?.method)
  }

  /** An endpoint may have become available: wake the requests waiting for one, and the head of the queue. */
  notify(): void {
    this.#queue.wakeHead()
    // A latest read's eligibility stands for every call's here: a pinned read that a lagging endpoint
    // could still serve is woken for nothing, and sleeps on.
    if (this.#backingOff.size > 0 && !this.#hasEligible(this.eligibility(undefined))) for (const wake of [...this.#backingOff]) wake()
    if (this.#waiters.size === 0) return
    for (const wake of [...this.#waiters]) wake()
  }

  /** Resolves when an endpoint may have become available, or after `ms`; rejects when `signal` aborts. */
  waitForChange(signal: AbortSignal): Promise<void> {
    return this.#waitForChange(signal, undefined)
  }

  #waitForChange(signal: AbortSignal, ms: number | undefined, clock: Clock = this.#core.clock, waiters = this.#waiters): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        waiters.delete(done)
        signal.removeEventListener('abort', onAbort)
        if (timer !== undefined) clock.clearTimeout(timer)
        resolve()
      }
      const onAbort = () => {
        waiters.delete(done)
        if (timer !== undefined) clock.clearTimeout(timer)
        reject(signal.reason)
      }
      const timer = ms === undefined ? undefined : clock.setTimeout(done, timerDelay(ms))
      waiters.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** What selection needs for one pick: one object per attempt. */
  #selectContext(call: Call, now: number): SelectContext {
    const core = this.#core
    const head = referenceHead(core)
    if (head !== this.#bounds.referenceHead) this.#bounds = { referenceHead: head, bounds: headBounds(head, core.options.maxLag) }
    return {
      strategy: core.options.strategy,
      target: call.target,
      avoid: call.avoid,
      lacking: call.lacking,
      referenceHead: head,
      maxLag: core.options.maxLag,
      headBounds: this.#bounds.bounds,
      requestTrials: !core.health,
      judgeAhead: judgeAhead(core),
      cursor: this.#cursor,
      currentWeights: this.#currentWeights,
      tried: call.tried,
      showsHead: call.method === 'eth_blockNumber',
      method: call.method,
      now,
    }
  }

  #refresh(now: number): void {
    for (const e of this.#core.endpoints) e.refresh(now)
  }
}
