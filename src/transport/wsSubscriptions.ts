import { InvalidResponseError } from '../errors/endpoint.js'
import { PoolDestroyedError } from '../errors/request.js'
import type { Clock } from '../util/clock.js'
import type { SafeEmitter } from '../util/emitter.js'
import type { WsConnection } from './wsConnection.js'
import { asRpcError } from './wsErrors.js'
import type { WsResubscribed, WsSubscribeOptions, WsSubscription, WsTransportEvents } from './wsOptions.js'

/** What the subscriptions need from the transport. */
export type SubscriptionHost = {
  readonly endpoint: string
  readonly clock: Clock
  readonly events: SafeEmitter<WsTransportEvents>
  /** The open connection now, or at the next open; starts connecting if idle. */
  whenOpen(signal: AbortSignal | undefined): Promise<WsConnection>
  destroyed(): boolean
}

type Sub = {
  id: number
  params: readonly unknown[]
  onMessage: (result: unknown) => void
  options: WsSubscribeOptions
  serverId: string | undefined
  conn: WsConnection | undefined
  /** Server id on the last connection, for the resubscribed notice. */
  lastServerId: string | undefined
  lostAt: number
  ended: boolean
  unsubscribing: Promise<void> | undefined
  onAbort: () => void
}

/**
 * The transport's subscriptions, which outlive its connections: each keeps its local id and handle
 * while it is sent again (`eth_subscribe`) on every new connection, the node's new id mapped to it,
 * and a `resubscribed` notice (with the downtime) told before its first new notification so that
 * a caller can backfill what it missed.
 */
export class SubscriptionRegistry {
  readonly #host: SubscriptionHost
  readonly #subs = new Set<Sub>()
  #nextId = 1

  constructor(host: SubscriptionHost) {
    this.#host = host
  }

  get size(): number {
    return this.#subs.size
  }

  async subscribe(params: readonly unknown[], onMessage: (result: unknown) => void, options: WsSubscribeOptions = {}): Promise<WsSubscription> {
    const host = this.#host
    const { signal } = options
    const sub: Sub = { id: this.#nextId++, params, onMessage, options, serverId: undefined, conn: undefined, lastServerId: undefined, lostAt: 0, ended: false, unsubscribing: undefined, onAbort: () => void this.#unsubscribe(sub) }
    const conn = await host.whenOpen(signal)
    await conn.call('eth_subscribe', params, signal, undefined, (result) => {
      this.#bind(sub, conn, result)
      sub.lastServerId = sub.serverId
      // From here on every new connection re-establishes it.
      this.#subs.add(sub)
    })
    // destroy() may have run between the answer and this continuation.
    if (host.destroyed()) {
      this.#end(sub)
      throw new PoolDestroyedError({ endpoint: host.endpoint })
    }
    if (signal?.aborted) {
      void this.#unsubscribe(sub)
      throw signal.reason
    }
    signal?.addEventListener('abort', sub.onAbort, { once: true })
    return {
      id: sub.id,
      get serverId() {
        return sub.serverId
      },
      get active() {
        return !sub.ended
      },
      unsubscribe: () => this.#unsubscribe(sub),
    }
  }

  /** A new connection opened: every subscription is sent on it, before the requests that waited for it. */
  resubscribeAll(conn: WsConnection): void {
    for (const sub of [...this.#subs]) this.#resubscribe(conn, sub)
  }

  /** A connection ended: its subscriptions wait for the next one, without a server id meanwhile. */
  lose(conn: WsConnection): void {
    const now = this.#host.clock.now()
    for (const sub of this.#subs) {
      if (sub.conn !== conn) continue
      sub.conn = undefined
      sub.serverId = undefined
      sub.lostAt = now
    }
  }

  /** Ends every subscription for good (`destroy()`); the node learns it when the socket closes. */
  endAll(): void {
    for (const sub of [...this.#subs]) this.#end(sub)
  }

  /** Maps a node's subscription id to `sub` on `conn`, synchronously with reading the answer. */
  #bind(sub: Sub, conn: WsConnection, result: unknown): void {
    if (typeof result !== 'string') throw new InvalidResponseError(`eth_subscribe returned ${JSON.stringify(result)?.slice(0, 40)}, expected a subscription id`, { endpoint: this.#host.endpoint })
    if (sub.ended) {
      // Unsubscribed while this (re)subscription was on its way: end it on the node too.
      void conn.call('eth_unsubscribe', [result]).catch(() => {})
      return
    }
    sub.serverId = result
    sub.conn = conn
    conn.subs.set(result, sub)
  }

  #resubscribe(conn: WsConnection, sub: Sub): void {
    const { endpoint, clock, events } = this.#host
    if (sub.ended) return
    conn
      .call('eth_subscribe', sub.params, undefined, undefined, (result) => {
        const previous = sub.lastServerId
        this.#bind(sub, conn, result)
        if (sub.ended || previous === undefined) return
        sub.lastServerId = sub.serverId
        // Told synchronously, before the first notification on the new id is read.
        const notice: WsResubscribed = { id: sub.id, previousServerId: previous, serverId: sub.serverId!, generation: conn.generation, downtime: Math.max(0, clock.now() - sub.lostAt) }
        if (sub.options.onResubscribed) this.#guarded(() => sub.options.onResubscribed!(notice))
        events.emit('subscription:resubscribed', { endpoint, ...notice })
      })
      .catch((error: unknown) => {
        // The connection died on the way: the next one tries again. Anything else is the node's
        // answer (it refuses this subscription), which another attempt would only repeat.
        if (conn.dead || sub.ended) return
        const reason = asRpcError(error, endpoint, 'eth_subscribe failed')
        this.#end(sub)
        if (sub.options.onError) this.#guarded(() => sub.options.onError!(reason))
        events.emit('subscription:error', { endpoint, id: sub.id, error: reason })
      })
  }

  #end(sub: Sub): void {
    sub.ended = true
    this.#subs.delete(sub)
    sub.options.signal?.removeEventListener('abort', sub.onAbort)
  }

  #unsubscribe(sub: Sub): Promise<void> {
    if (sub.unsubscribing) return sub.unsubscribing
    const wasActive = !sub.ended
    this.#end(sub)
    const { conn, serverId } = sub
    sub.conn = undefined
    sub.serverId = undefined
    if (!wasActive || conn === undefined || serverId === undefined || conn.dead) {
      sub.unsubscribing = Promise.resolve()
      return sub.unsubscribing
    }
    // The mapping stays until the node confirms, so notifications already on their way are dropped quietly.
    sub.unsubscribing = conn.call('eth_unsubscribe', [serverId]).then(
      () => void conn.subs.delete(serverId),
      () => void conn.subs.delete(serverId),
    )
    return sub.unsubscribing
  }

  /** Runs a caller's callback; a throw is reported, never let into the message loop. */
  #guarded(fn: () => void): void {
    try {
      fn()
    } catch (error) {
      this.#host.events.emit('error', error)
    }
  }
}
