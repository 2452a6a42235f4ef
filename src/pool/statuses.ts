import type { ResilientRpcError } from '../errors/base.js'
import { EndpointLaggingError } from '../errors/endpoint.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import type { EndpointStatus } from '../types/endpoint.js'
import { judgeAhead, referenceHead, type PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'

/**
 * Keeps every endpoint's reported status up to date: after anything that can change one (a ping, a
 * failed attempt, a breaker, a dropped socket), `sync()` derives each status, emits `endpoint:state`
 * for every change (once the state is consistent), tells the change listeners (subscriptions follow
 * the WebSocket endpoints) and wakes requests waiting for an endpoint.
 */
export class Statuses {
  readonly #core: PoolCore
  readonly #dispatcher: Dispatcher
  readonly #listeners = new Set<() => void>()
  #stopped = false

  constructor(core: PoolCore, dispatcher: Dispatcher) {
    this.#core = core
    this.#dispatcher = dispatcher
  }

  sync(): void {
    if (this.#stopped) return
    const core = this.#core
    const now = core.clock.now()
    const reference = referenceHead(core)
    const ahead = judgeAhead(core)
    let changed = false
    for (const e of core.endpoints) {
      e.refresh(now)
      const from = e.updateStatus(now, reference, ahead)
      if (from === undefined) continue
      const to = e.view.status
      const reason = statusError(e, to, reference)
      core.events.emit('endpoint:state', { endpoint: e.id, from, to, ...(reason ? { reason } : {}) })
      changed = true
    }
    if (changed) {
      for (const listener of [...this.#listeners]) {
        try {
          listener()
        } catch (error) {
          // A subscription's trouble is its own: the status sync (and the waiters below) carry on.
          core.events.emit('error', error)
        }
      }
    }
    this.#dispatcher.notify()
  }

  /**
   * An answer or a notification showed `endpoint` has `block`: its known head rises, and when that
   * moves the reference head, every status follows now rather than at the next heartbeat.
   */
  sawHead(endpoint: Endpoint, block: bigint): void {
    if (this.#stopped || !endpoint.sawHead(block, this.#core.clock.now())) return
    if (this.#core.health?.headsMoved()) this.sync()
  }

  /** Calls `listener` after every sync that changed a status; returns the unsubscriber. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  stop(): void {
    this.#stopped = true
    this.#listeners.clear()
  }
}

/** The error that explains a status, for `endpoint:state` events. */
function statusError(e: Endpoint, status: EndpointStatus, reference: bigint | undefined): ResilientRpcError | undefined {
  switch (status) {
    case 'up':
    case 'connecting':
      return undefined
    case 'lagging':
    case 'ahead': {
      const distance = e.distance(reference)
      const where = distance < 0n ? `${-distance} blocks behind` : `${distance} blocks ahead of`
      return new EndpointLaggingError(distance, `Endpoint is ${where} the reference head ${reference}`, { endpoint: e.id })
    }
    default:
      return e.view.lastError
  }
}
