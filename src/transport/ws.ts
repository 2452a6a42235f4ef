import { NetworkError } from '../errors/endpoint.js'
import { PoolDestroyedError } from '../errors/request.js'
import type { ResilientRpcError } from '../errors/base.js'
import type { WsTransportOptions } from '../config/webSocketOptions.js'
import { SafeEmitter } from '../util/emitter.js'
import { WsConnection, type ConnectionHost } from './wsConnection.js'
import { closedError } from './wsErrors.js'
import { resolveOptions, type WsState, type WsTransport, type WsTransportEvents } from './wsOptions.js'
import { ReconnectLoop } from './wsReconnect.js'
import { SubscriptionRegistry } from './wsSubscriptions.js'

type Waiter = { resolve: (conn: WsConnection) => void; reject: (error: unknown) => void; signal: AbortSignal | undefined; onAbort: () => void }

/**
 * Creates a JSON-RPC over WebSocket transport. Nothing connects until `connect()`, `request()` or
 * `subscribe()`; then it stays connected, reconnecting with back-off, until `close()` or `destroy()`.
 * Every failure surfaces as a `ResilientRpcError`.
 * @throws `INVALID_OPTION` for a bad option, synchronously
 * @example
 * const ws = createWsTransport({ url: 'wss://node.example/ws', endpoint: 'node', chainId: 1n })
 * const sub = await ws.subscribe(['newHeads'], (head) => console.log(head))
 * const block = await ws.request('eth_blockNumber', [], { signal: AbortSignal.timeout(5_000) })
 */
export function createWsTransport(options: WsTransportOptions): WsTransport {
  const o = resolveOptions(options)
  const { endpoint, clock } = o
  const events = new SafeEmitter<WsTransportEvents>()
  const waiters = new Set<Waiter>()
  const counts = { opens: 0, unknownResponses: 0, lateResponses: 0, unknownNotifications: 0, invalidMessages: 0 }
  let state: WsState = 'idle'
  let current: WsConnection | undefined
  let generation = 0
  let lastReason: ResilientRpcError | undefined
  let nextId = 1

  /** Why nothing can be sent now and nothing will be until `connect()`, if so. */
  const unusable = (): ResilientRpcError | undefined => {
    if (state === 'destroyed') return new PoolDestroyedError({ endpoint })
    if (state === 'failed') return new NetworkError({ endpoint, details: `websocket gave up reconnecting after ${loop.attempt} attempts`, cause: lastReason })
    return undefined
  }

  const failWaiter = (waiter: Waiter, error: unknown) => {
    waiters.delete(waiter)
    waiter.signal?.removeEventListener('abort', waiter.onAbort)
    waiter.reject(error)
  }

  /** The open connection now, or at the next `open`; starts connecting if idle. */
  const whenOpen = (signal: AbortSignal | undefined): Promise<WsConnection> =>
    new Promise((resolve, reject) => {
      const error = unusable()
      if (error) return reject(error)
      if (signal?.aborted) return reject(signal.reason)
      if (current?.ready) return resolve(current)
      const waiter: Waiter = { resolve, reject, signal, onAbort: () => failWaiter(waiter, signal!.reason) }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      // Registered before connecting: a connection that fails synchronously must find it to reject.
      waiters.add(waiter)
      if (state === 'idle') loop.start()
    })

  /** A connection attempt failed or a connection was lost: the loop decides what follows. */
  const reconnecting = () => {
    if (state === 'connecting' || state === 'open') state = 'reconnecting'
  }

  const host: ConnectionHost = {
    options: o,
    counts,
    nextId: () => nextId++,
    report: (error) => events.emit('error', error),
    opened(conn) {
      if (conn !== current) return
      state = 'open'
      counts.opens++
      // 1. Subscriptions first, so their notifications resume before the backlog of requests is answered.
      registry.resubscribeAll(conn)
      // 2. Then everyone who waited for a connection.
      for (const waiter of [...waiters]) {
        waiters.delete(waiter)
        waiter.signal?.removeEventListener('abort', waiter.onAbort)
        waiter.resolve(conn)
      }
      events.emit('open', { endpoint, generation: conn.generation })
    },
    ended(conn, reason, how, code) {
      const wasCurrent = current === conn
      if (wasCurrent) current = undefined
      registry.lose(conn)
      lastReason = reason
      if (how === 'reconnect' && wasCurrent) {
        reconnecting()
        // A connection that had not proved stable fails the loop's attempt that is waiting for it; a
        // stable one's run is over, and its loss starts the next.
        if (conn.stable) loop.start(reason)
      }
      events.emit('closed', { endpoint, generation: conn.generation, reason, wasOpen: conn.ready, ...(code === undefined ? {} : { code }) })
    },
  }

  const loop = new ReconnectLoop(o.reconnect, o, {
    connect(attempt) {
      generation++
      state = 'connecting'
      let conn: WsConnection
      try {
        conn = new WsConnection(host, generation)
      } catch (error) {
        events.emit('connecting', { endpoint, generation, attempt })
        lastReason = error as ResilientRpcError
        reconnecting()
        events.emit('closed', { endpoint, generation, reason: error as ResilientRpcError, wasOpen: false })
        return Promise.reject(error)
      }
      current = conn
      events.emit('connecting', { endpoint, generation, attempt })
      return conn.untilStable
    },
    waiting: (attempt, delay) => events.emit('reconnect:attempt', { endpoint, attempt, delay }),
    gaveUp(attempts, reason) {
      state = 'failed'
      lastReason = reason
      const error = unusable()!
      for (const waiter of [...waiters]) failWaiter(waiter, error)
      events.emit('reconnect:gaveUp', { endpoint, attempts, reason })
    },
    report: (error) => events.emit('error', error),
  })

  const registry = new SubscriptionRegistry({ endpoint, clock, events, whenOpen, destroyed: () => state === 'destroyed' })

  const stopAll = (reason: ResilientRpcError, how: 'close' | 'destroy'): Promise<void> => {
    loop.stop()
    const conn = current
    if (conn) conn.end(reason, how)
    const error = how === 'destroy' ? reason : closedError(reason, endpoint)
    for (const waiter of [...waiters]) failWaiter(waiter, error)
    return conn ? conn.closed : Promise.resolve()
  }

  let destroying: Promise<void> | undefined

  const transport: WsTransport = {
    async request(method, params, { signal, paramsJson }) {
      const conn = current?.ready ? current : await whenOpen(signal)
      return conn.call(method, params, signal, paramsJson)
    },
    subscribe: (params, onMessage, subscribeOptions) => registry.subscribe(params, onMessage, subscribeOptions),
    async connect({ signal } = {}) {
      if (state === 'failed') state = 'idle'
      await whenOpen(signal)
    },
    hurry() {
      loop.hurry()
      return current?.ready === true
    },
    close() {
      if (state === 'destroyed') return Promise.resolve()
      state = 'idle'
      return stopAll(new NetworkError({ endpoint, details: 'websocket closed by the client' }), 'close')
    },
    destroy() {
      destroying ??= (() => {
        state = 'destroyed'
        const closed = stopAll(new PoolDestroyedError({ endpoint }), 'destroy')
        registry.endAll()
        events.removeAllListeners()
        return closed
      })()
      return destroying
    },
    stats: () =>
      Object.freeze({
        state,
        generation,
        inFlight: current?.pending.size ?? 0,
        waiting: waiters.size,
        subscriptions: registry.size,
        reconnectAttempt: loop.attempt,
        ...counts,
      }),
    on(event, listener) {
      events.on(event, listener)
      return transport
    },
    once(event, listener) {
      events.once(event, listener)
      return transport
    },
    off(event, listener) {
      events.off(event, listener)
      return transport
    },
  }
  return transport
}
