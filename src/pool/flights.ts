import type { ResilientRpcError } from '../errors/base.js'
import { createAbortController } from '../util/abort.js'

/** One upstream request and the callers waiting for it (more than one when de-duplicated). */
export type Flight<C> = {
  readonly call: C
  readonly promise: Promise<unknown>
  readonly controller: AbortController
  callers: number
  settled: boolean
  /** Key in the de-duplication map, when shareable. */
  readonly key: string | undefined
  /** Why the last caller left early: the flight is aborted with it. */
  leaveReason?: ResilientRpcError
}

function ignore(): void {}

/**
 * Upstream requests and who waits for them. Identical shareable requests (same key) board one flight;
 * a flight is aborted only when its last caller leaves before it settled, with that caller's reason.
 * `active` is the owner's set of controllers to abort on destroy.
 */
export class Flights<C> {
  readonly #byKey = new Map<string, Flight<C>>()
  readonly #active: Set<AbortController>

  constructor(active: Set<AbortController>) {
    this.#active = active
  }

  /** Joins the flight with `key`, or starts `run` as a new one (shareable under `key` if given). */
  board(key: string | undefined, call: C, run: (signal: AbortSignal) => Promise<unknown>): Flight<C> {
    const existing = key === undefined ? undefined : this.#byKey.get(key)
    if (existing) {
      existing.callers++
      return existing
    }
    const controller = createAbortController()
    this.#active.add(controller)
    const landed = () => {
      flight.settled = true
      this.#active.delete(controller)
      this.#forget(flight)
    }
    // `then` with both handlers, not `finally`: two promises and microtask turns fewer per request.
    const promise = run(controller.signal).then(
      (value) => (landed(), value),
      (error: unknown) => {
        landed()
        throw error
      },
    )
    // Every caller may have left by the time it settles: its outcome must not be an unhandled rejection.
    promise.catch(ignore)
    const flight: Flight<C> = { call, controller, promise, callers: 1, settled: false, key }
    if (key !== undefined) this.#byKey.set(key, flight)
    return flight
  }

  /**
   * A caller is done with a flight. The last one to leave before it settled aborts it, with its reason:
   * a deadline counts against the endpoint in flight, an abort does not.
   */
  leave(flight: Flight<C>, reason: ResilientRpcError | undefined): void {
    if (reason !== undefined && !flight.settled) flight.leaveReason = reason
    flight.callers--
    if (flight.callers > 0 || flight.settled) return
    this.#forget(flight)
    if (flight.leaveReason !== undefined) flight.controller.abort(flight.leaveReason)
  }

  #forget(flight: Flight<C>): void {
    if (flight.key !== undefined && this.#byKey.get(flight.key) === flight) this.#byKey.delete(flight.key)
  }
}
