import { EventEmitter } from 'eventemitter3'
import { HttpError, InvalidResponseError, NetworkError, RateLimitedError, UnauthorizedError } from '../errors/endpoint.js'
import { PoolDestroyedError, TimeoutError } from '../errors/request.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { ResilientRpcError } from '../errors/base.js'
import { backoffDelay } from '../policy/backoff.js'
import { unrefTimer, type TimerHandle } from '../util/clock.js'
import { encodeRequest, unwrapResponse } from './jsonrpc.js'
import { resolveOptions, type WsResubscribed, type WsState, type WsSubscribeOptions, type WsSubscription, type WsTransport, type WsTransportEvents } from './wsOptions.js'
import type { WebSocketEventLike, WebSocketLike } from '../types/webSocket.js'
import type { WsKeepaliveOptions, WsTransportOptions } from '../config/webSocketOptions.js'

// Ids of abandoned requests remembered per connection, so a late answer is told from a stray one.
// Bounded: a node that never answers would otherwise grow it until keepalive kills the socket.
const MAX_ABANDONED = 1_000

type Call = {
  method: string
  signal: AbortSignal | undefined
  onResult: ((result: unknown) => void) | undefined
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  onAbort: () => void
  done: boolean
}

type Sub = {
  id: number
  params: readonly unknown[]
  onMessage: (result: unknown) => void
  options: WsSubscribeOptions
  serverId: string | undefined
  conn: Conn | undefined
  /** Server id on the last connection, for the resubscribed notice. */
  lastServerId: string | undefined
  lostAt: number
  ended: boolean
  unsubscribing: Promise<void> | undefined
  onAbort: () => void
}

/** One connection generation: everything tied to one socket, which dies with it. */
type Conn = {
  generation: number
  socket: WebSocketLike
  /** Socket open and handshake passed. */
  ready: boolean
  dead: boolean
  reason: ResilientRpcError | undefined
  openedAt: number
  pending: Map<number, Call>
  abandoned: Map<number, string>
  subs: Map<string, Sub>
  timers: Set<TimerHandle>
  /** Aborted when the generation ends: the handshake's own waits stop with it. */
  stop: AbortController
  awaitingPong: boolean
  /** Ended by a message over `maxResponseBytes`: what its pending requests fail with says so. */
  oversized: boolean
  keepaliveDeadline: TimerHandle | undefined
  /** Resolves on the socket's own `close` event. */
  closed: Promise<void>
  detach: () => void
}

type Waiter = { resolve: (conn: Conn) => void; reject: (error: unknown) => void; signal: AbortSignal | undefined; onAbort: () => void }

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
  const emitter = new EventEmitter<WsTransportEvents>()
  const waiters = new Set<Waiter>()
  const subs = new Set<Sub>()
  let state: WsState = 'idle'
  let current: Conn | undefined
  let generation = 0
  let attempt = 0
  let reconnectTimer: TimerHandle | undefined
  let lastReason: ResilientRpcError | undefined
  let nextId = 1
  let nextSubId = 1
  const counts = { opens: 0, unknownResponses: 0, lateResponses: 0, unknownNotifications: 0, invalidMessages: 0 }

  const emit = <K extends keyof WsTransportEvents>(event: K, ...args: WsTransportEvents[K]): void => {
    try {
      ;(emitter.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args)
    } catch (error) {
      // A throwing listener must not break a socket handler or a timer callback.
      if (event !== 'error') emit('error', error)
    }
  }

  /** Runs a caller's callback; a throw is reported, never allowed into the message loop. */
  const guarded = (fn: () => void) => {
    try {
      fn()
    } catch (error) {
      emit('error', error)
    }
  }

  const setTimer = (fn: () => void, ms: number): TimerHandle => {
    const handle = clock.setTimeout(fn, ms)
    if (o.unref) unrefTimer(handle)
    return handle
  }

  /** A timer owned by one generation: cleared when it ends, and inert if it somehow fires after. */
  const connTimer = (conn: Conn, fn: () => void, ms: number): TimerHandle => {
    const handle = setTimer(() => {
      conn.timers.delete(handle)
      if (!conn.dead) fn()
    }, ms)
    conn.timers.add(handle)
    return handle
  }
  const clearConnTimer = (conn: Conn, handle: TimerHandle | undefined) => {
    if (handle === undefined) return
    clock.clearTimeout(handle)
    conn.timers.delete(handle)
  }

  const closedError = (reason: ResilientRpcError | undefined) =>
    reason?.code === 'POOL_DESTROYED' ? reason : new NetworkError({ endpoint, details: 'websocket closed', cause: reason })

  /** Why nothing can be sent now and nothing will be until `connect()`, if so. */
  const unusable = (): ResilientRpcError | undefined => {
    if (state === 'destroyed') return new PoolDestroyedError({ endpoint })
    if (state === 'failed') return new NetworkError({ endpoint, details: `websocket gave up reconnecting after ${attempt} attempts`, cause: lastReason })
    return undefined
  }

  // ---- requests on one connection -------------------------------------------------------------

  const settle = (call: Call, outcome: { value: unknown } | { error: unknown }) => {
    if (call.done) return
    call.done = true
    call.signal?.removeEventListener('abort', call.onAbort)
    if ('value' in outcome) call.resolve(outcome.value)
    else call.reject(outcome.error)
  }

  /**
   * Sends one request on `conn`. `onResult` runs synchronously when the answer is read, before any
   * later frame: a subscription id must be routable before the notifications that follow it.
   */
  const callOn = (conn: Conn, method: string, params: readonly unknown[], signal?: AbortSignal, paramsJson?: string, onResult?: (result: unknown) => void): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      if (conn.dead) return reject(closedError(conn.reason))
      const id = nextId++
      const call: Call = { method, signal, onResult, resolve, reject, done: false, onAbort: () => {} }
      call.onAbort = () => {
        if (conn.pending.get(id) !== call) return
        conn.pending.delete(id)
        if (conn.abandoned.size >= MAX_ABANDONED) conn.abandoned.delete(conn.abandoned.keys().next().value!)
        conn.abandoned.set(id, method)
        settle(call, { error: signal!.reason })
      }
      signal?.addEventListener('abort', call.onAbort, { once: true })
      conn.pending.set(id, call)
      try {
        conn.socket.send(encodeRequest(id, method, params, paramsJson))
      } catch (cause) {
        // Only a socket that is not open throws here: the generation is over, and this call with it.
        endConn(conn, new NetworkError({ endpoint, details: 'websocket send failed', cause }), 'reconnect')
      }
    })

  /** A message over the bound ends its connection: no way to tell which request it answered. */
  const endOversized = (conn: Conn, cause?: unknown) => {
    conn.oversized = true
    const reason = new InvalidResponseError(`websocket message is too large (over the ${o.maxResponseBytes}-byte limit)`, {
      endpoint,
      cause,
      details: 'socket closed with code 1009; every request pending on it failed',
    })
    endConn(conn, reason, 'reconnect', 1009)
  }

  const onFrame = (conn: Conn, event: WebSocketEventLike) => {
    if (conn.dead) return
    // `ws` never delivers such a message (maxPayload); a browser's WebSocket does, already whole in
    // memory. It is still not parsed. A string's length never exceeds its UTF-8 byte count.
    if (frameSize(event.data) > o.maxResponseBytes) return endOversized(conn)
    const text = frameText(event.data)
    let parsed: unknown
    try {
      parsed = text === undefined ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined) {
      counts.invalidMessages++
      return
    }
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      // A callback of an earlier item may have ended this generation (destroy() in a listener).
      if (conn.dead) return
      route(conn, item)
    }
  }

  const route = (conn: Conn, item: unknown) => {
    if (typeof item !== 'object' || item === null) {
      counts.invalidMessages++
      return
    }
    const message = item as { id?: unknown; method?: unknown; params?: { subscription?: unknown; result?: unknown } }
    if (message.method === 'eth_subscription') {
      const sub = typeof message.params?.subscription === 'string' ? conn.subs.get(message.params.subscription) : undefined
      if (sub === undefined) counts.unknownNotifications++
      // Frames between unsubscribe() and the node's confirmation are expected: dropped quietly.
      else if (!sub.ended) guarded(() => sub.onMessage(message.params!.result))
      return
    }
    if (!('id' in message)) {
      counts.invalidMessages++
      return
    }
    const call = typeof message.id === 'number' ? conn.pending.get(message.id) : undefined
    if (call === undefined) {
      const method = typeof message.id === 'number' ? conn.abandoned.get(message.id) : undefined
      if (method === undefined) return void counts.unknownResponses++
      counts.lateResponses++
      conn.abandoned.delete(message.id as number)
      // A subscription its caller gave up on still exists on the node: end it there too.
      const result = (message as { result?: unknown }).result
      if (method === 'eth_subscribe' && typeof result === 'string' && conn.ready) void callOn(conn, 'eth_unsubscribe', [result]).catch(() => {})
      return
    }
    conn.pending.delete(message.id as number)
    try {
      const value = unwrapResponse(message, message.id as number, { endpoint })
      call.onResult?.(value)
      settle(call, { value })
    } catch (error) {
      settle(call, { error })
    }
  }

  // ---- connection generations -----------------------------------------------------------------

  const startConnecting = () => {
    if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer)
    reconnectTimer = undefined
    generation++
    state = 'connecting'
    let socket: WebSocketLike
    try {
      // Browsers ignore the third argument; `ws` bounds every incoming message by `maxPayload`.
      socket = new o.WebSocket(o.url, o.protocols, { maxPayload: o.maxResponseBytes, ...(o.headers === undefined ? {} : { headers: o.headers }) })
    } catch (cause) {
      emit('connecting', { endpoint, generation, attempt })
      const reason = new NetworkError({ endpoint, details: 'websocket could not be created', cause })
      lastReason = reason
      const after = scheduleReconnect(reason)
      emit('closed', { endpoint, generation, reason, wasOpen: false })
      after()
      return
    }
    const conn = newConn(generation, socket)
    current = conn
    connTimer(conn, () => endConn(conn, new TimeoutError('attempt', o.connectTimeout, { endpoint, details: 'websocket connect and handshake' }), 'reconnect'), o.connectTimeout)
    emit('connecting', { endpoint, generation, attempt })
  }

  const newConn = (gen: number, socket: WebSocketLike): Conn => {
    // Set before any listener can run: binary frames then arrive as ArrayBuffer in browsers too.
    socket.binaryType = 'arraybuffer'
    let resolveClosed!: () => void
    const conn: Conn = {
      generation: gen,
      socket,
      ready: false,
      dead: false,
      reason: undefined,
      openedAt: 0,
      pending: new Map(),
      abandoned: new Map(),
      subs: new Map(),
      timers: new Set(),
      stop: new AbortController(),
      awaitingPong: false,
      oversized: false,
      keepaliveDeadline: undefined,
      closed: new Promise<void>((resolve) => (resolveClosed = resolve)),
      detach: () => {},
    }
    const onOpen = () => void runHandshake(conn)
    const onMessage = (event: WebSocketEventLike) => onFrame(conn, event)
    const onError = (event: WebSocketEventLike) => {
      if ((event.error as { code?: unknown } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') endOversized(conn, event.error)
      else endConn(conn, socketError(event, endpoint), 'reconnect')
    }
    const onClose = (event: WebSocketEventLike) => {
      const code = typeof event.code === 'number' ? event.code : undefined
      endConn(conn, new NetworkError({ endpoint, details: `websocket closed by the peer${code === undefined ? '' : ` (code ${code})`}` }), 'reconnect', code)
    }
    const onPong = () => onKeepaliveAnswer(conn)
    socket.addEventListener('open', onOpen)
    socket.addEventListener('message', onMessage)
    socket.addEventListener('error', onError)
    socket.addEventListener('close', onClose)
    socket.on?.('pong', onPong)
    // Never removed: `ws` throws an 'error' event nobody listens to, and a socket being torn down
    // may still emit one. Both die with the socket object.
    socket.addEventListener('error', () => {})
    socket.addEventListener('close', () => resolveClosed())
    conn.detach = () => {
      socket.removeEventListener('open', onOpen)
      socket.removeEventListener('message', onMessage)
      socket.removeEventListener('error', onError)
      socket.removeEventListener('close', onClose)
      socket.off?.('pong', onPong)
    }
    return conn
  }

  const runHandshake = async (conn: Conn) => {
    if (conn.dead) return
    try {
      // Internal calls carry no signal: endConn() rejects whatever a generation still has pending, and
      // one abort listener per call on a shared signal would trip Node's listener-leak warning.
      await o.handshake((method, params = []) => callOn(conn, method, params), { signal: conn.stop.signal, endpoint, generation: conn.generation })
    } catch (error) {
      if (!conn.dead) endConn(conn, asRpcError(error, endpoint, 'websocket handshake failed'), 'reconnect')
      return
    }
    if (conn.dead) return
    // 1. The generation is open: cancel its connect deadline and start its keepalive.
    for (const handle of conn.timers) clock.clearTimeout(handle)
    conn.timers.clear()
    conn.ready = true
    conn.openedAt = clock.now()
    state = 'open'
    counts.opens++
    scheduleKeepalive(conn)
    // 2. Subscriptions first, so their notifications resume before the backlog of requests is answered.
    for (const sub of [...subs]) resubscribe(conn, sub)
    // 3. Then everyone who waited for a connection.
    for (const waiter of [...waiters]) {
      waiters.delete(waiter)
      waiter.signal?.removeEventListener('abort', waiter.onAbort)
      waiter.resolve(conn)
    }
    emit('open', { endpoint, generation: conn.generation })
  }

  /**
   * Ends one generation: its timers, its pending requests (rejected, never left waiting), its
   * subscription ids. `how` says what follows: a reconnect, nothing (`close()`), or the end (`destroy()`).
   */
  function endConn(conn: Conn, reason: ResilientRpcError, how: 'reconnect' | 'close' | 'destroy', code?: number): void {
    if (conn.dead) return
    conn.dead = true
    conn.reason = reason
    for (const handle of conn.timers) clock.clearTimeout(handle)
    conn.timers.clear()
    conn.detach()
    try {
      // terminate(): `ws`'s closing handshake would keep a 30 s timer alive for a peer that never answers.
      if (conn.socket.terminate) conn.socket.terminate()
      else conn.socket.close(1000)
    } catch {
      // Already closing or closed: nothing left to do.
    }
    const wasCurrent = current === conn
    if (wasCurrent) current = undefined
    const now = clock.now()
    // A connection that stayed up long enough proves the endpoint healthy again: back-off starts over.
    if (conn.ready && now - conn.openedAt >= o.reconnect.stableAfter) attempt = 0
    const error = how === 'destroy' || conn.oversized ? reason : closedError(reason)
    for (const call of [...conn.pending.values()]) settle(call, { error })
    conn.pending.clear()
    conn.stop.abort(reason)
    for (const sub of conn.subs.values()) {
      if (sub.conn !== conn) continue
      sub.conn = undefined
      sub.serverId = undefined
      sub.lostAt = now
    }
    conn.subs.clear()
    lastReason = reason
    const after = how === 'reconnect' && wasCurrent ? scheduleReconnect(reason) : () => {}
    emit('closed', { endpoint, generation: conn.generation, reason, wasOpen: conn.ready, ...(code === undefined ? {} : { code }) })
    after()
  }

  /** Decides what follows a lost connection; returns the event to emit once `closed` has been. */
  function scheduleReconnect(reason: ResilientRpcError): () => void {
    if (state === 'destroyed' || state === 'idle') return () => {}
    let stop = attempt >= o.reconnect.maxAttempts
    if (!stop && o.reconnect.giveUp) {
      const giveUp = o.reconnect.giveUp
      try {
        stop = giveUp({ attempt, error: reason })
      } catch (error) {
        emit('error', error)
      }
    }
    if (stop) {
      state = 'failed'
      const error = unusable()!
      for (const waiter of [...waiters]) failWaiter(waiter, error)
      return () => emit('reconnect:gaveUp', { endpoint, attempts: attempt, reason })
    }
    const delay = backoffDelay(attempt, o.reconnect, o.random)
    attempt++
    state = 'reconnecting'
    reconnectTimer = setTimer(() => {
      reconnectTimer = undefined
      if (state === 'reconnecting') startConnecting()
    }, delay)
    const n = attempt
    return () => emit('reconnect:attempt', { endpoint, attempt: n, delay })
  }

  // ---- keepalive ------------------------------------------------------------------------------

  const keepaliveMode = (conn: Conn): 'ping' | 'request' | undefined => {
    if (!o.keepalive) return undefined
    const canPing = typeof conn.socket.ping === 'function' && typeof conn.socket.on === 'function'
    return o.keepalive.mode === 'auto' ? (canPing ? 'ping' : 'request') : o.keepalive.mode
  }

  // One probe at a time, the next only after an answer: a slow answer can never overlap a new probe.
  const scheduleKeepalive = (conn: Conn) => {
    const keepalive = o.keepalive
    if (!keepalive || !keepaliveMode(conn)) return
    connTimer(conn, () => probe(conn, keepalive), keepalive.interval)
  }

  const probe = (conn: Conn, keepalive: Required<WsKeepaliveOptions>) => {
    const mode = keepaliveMode(conn)
    conn.awaitingPong = true
    const what = mode === 'ping' ? 'pong' : `answer to ${keepalive.method}`
    conn.keepaliveDeadline = connTimer(conn, () => endConn(conn, new NetworkError({ endpoint, details: `websocket keepalive: no ${what} within ${keepalive.timeout} ms` }), 'reconnect'), keepalive.timeout)
    if (mode === 'ping') {
      try {
        conn.socket.ping!()
      } catch (cause) {
        endConn(conn, new NetworkError({ endpoint, details: 'websocket ping failed', cause }), 'reconnect')
      }
      return
    }
    // Any answer, even an error, proves the socket alive; a rejection because the socket died is moot.
    callOn(conn, keepalive.method, []).then(
      () => onKeepaliveAnswer(conn),
      (error: unknown) => {
        if (isResilientRpcError(error, 'RPC_ERROR') || isResilientRpcError(error, 'INVALID_RESPONSE')) onKeepaliveAnswer(conn)
      },
    )
  }

  const onKeepaliveAnswer = (conn: Conn) => {
    // An unsolicited pong, or one after the generation ended, proves nothing about any probe.
    if (conn.dead || !conn.awaitingPong) return
    conn.awaitingPong = false
    clearConnTimer(conn, conn.keepaliveDeadline)
    conn.keepaliveDeadline = undefined
    scheduleKeepalive(conn)
  }

  // ---- waiting for a connection ---------------------------------------------------------------

  const failWaiter = (waiter: Waiter, error: unknown) => {
    waiters.delete(waiter)
    waiter.signal?.removeEventListener('abort', waiter.onAbort)
    waiter.reject(error)
  }

  /** The open connection now, or at the next `open`; starts connecting if idle. */
  const whenOpen = (signal: AbortSignal | undefined): Promise<Conn> =>
    new Promise((resolve, reject) => {
      const error = unusable()
      if (error) return reject(error)
      if (signal?.aborted) return reject(signal.reason)
      if (current?.ready) return resolve(current)
      const waiter: Waiter = { resolve, reject, signal, onAbort: () => failWaiter(waiter, signal!.reason) }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      // Registered before connecting: a connection that fails synchronously must find it to reject.
      waiters.add(waiter)
      if (state === 'idle') startConnecting()
    })

  // ---- subscriptions --------------------------------------------------------------------------

  /** Maps a node's subscription id to `sub` on `conn`, synchronously with reading the answer. */
  const bind = (sub: Sub, conn: Conn, result: unknown) => {
    if (typeof result !== 'string') throw new InvalidResponseError(`eth_subscribe returned ${JSON.stringify(result)?.slice(0, 40)}, expected a subscription id`, { endpoint })
    if (sub.ended) {
      // Unsubscribed while this (re)subscription was on its way: end it on the node too.
      void callOn(conn, 'eth_unsubscribe', [result]).catch(() => {})
      return
    }
    sub.serverId = result
    sub.conn = conn
    conn.subs.set(result, sub)
  }

  const resubscribe = (conn: Conn, sub: Sub) => {
    if (sub.ended) return
    callOn(conn, 'eth_subscribe', sub.params, undefined, undefined, (result) => {
      const previous = sub.lastServerId
      bind(sub, conn, result)
      if (sub.ended || previous === undefined) return
      sub.lastServerId = sub.serverId
      // Told synchronously, before the first notification on the new id is read.
      const notice: WsResubscribed = { id: sub.id, previousServerId: previous, serverId: sub.serverId!, generation: conn.generation, downtime: Math.max(0, clock.now() - sub.lostAt) }
      if (sub.options.onResubscribed) guarded(() => sub.options.onResubscribed!(notice))
      emit('subscription:resubscribed', { endpoint, ...notice })
    }).catch((error: unknown) => {
      // The connection died on the way: the next generation tries again. Anything else is the
      // node's answer (it refuses this subscription), which another attempt would only repeat.
      if (conn.dead || sub.ended) return
      const reason = asRpcError(error, endpoint, 'eth_subscribe failed')
      endSub(sub)
      if (sub.options.onError) guarded(() => sub.options.onError!(reason))
      emit('subscription:error', { endpoint, id: sub.id, error: reason })
    })
  }

  const endSub = (sub: Sub) => {
    sub.ended = true
    subs.delete(sub)
    sub.options.signal?.removeEventListener('abort', sub.onAbort)
  }

  const unsubscribe = (sub: Sub): Promise<void> => {
    if (sub.unsubscribing) return sub.unsubscribing
    const wasActive = !sub.ended
    endSub(sub)
    const { conn, serverId } = sub
    sub.conn = undefined
    sub.serverId = undefined
    if (!wasActive || conn === undefined || serverId === undefined || conn.dead) {
      sub.unsubscribing = Promise.resolve()
      return sub.unsubscribing
    }
    // The mapping stays until the node confirms, so notifications already on their way are dropped quietly.
    sub.unsubscribing = callOn(conn, 'eth_unsubscribe', [serverId]).then(
      () => void conn.subs.delete(serverId),
      () => void conn.subs.delete(serverId),
    )
    return sub.unsubscribing
  }

  const subscribe = async (params: readonly unknown[], onMessage: (result: unknown) => void, options: WsSubscribeOptions = {}): Promise<WsSubscription> => {
    const { signal } = options
    const sub: Sub = { id: nextSubId++, params, onMessage, options, serverId: undefined, conn: undefined, lastServerId: undefined, lostAt: 0, ended: false, unsubscribing: undefined, onAbort: () => void unsubscribe(sub) }
    const conn = await whenOpen(signal)
    await callOn(conn, 'eth_subscribe', params, signal, undefined, (result) => {
      bind(sub, conn, result)
      sub.lastServerId = sub.serverId
      // From here on every new connection re-establishes it.
      subs.add(sub)
    })
    // destroy() may have run between the answer and this continuation.
    if (state === 'destroyed') {
      endSub(sub)
      throw new PoolDestroyedError({ endpoint })
    }
    if (signal?.aborted) {
      void unsubscribe(sub)
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
      unsubscribe: () => unsubscribe(sub),
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  const stopAll = (reason: ResilientRpcError, how: 'close' | 'destroy'): Promise<void> => {
    if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer)
    reconnectTimer = undefined
    const conn = current
    if (conn) endConn(conn, reason, how)
    const error = how === 'destroy' ? reason : closedError(reason)
    for (const waiter of [...waiters]) failWaiter(waiter, error)
    return conn ? conn.closed : Promise.resolve()
  }

  let destroying: Promise<void> | undefined

  const transport: WsTransport = {
    async request(method, params, { signal, paramsJson }) {
      const conn = current?.ready ? current : await whenOpen(signal)
      return callOn(conn, method, params, signal, paramsJson)
    },
    subscribe,
    async connect({ signal } = {}) {
      if (state === 'failed') {
        state = 'idle'
        attempt = 0
      }
      await whenOpen(signal)
    },
    close() {
      if (state === 'destroyed') return Promise.resolve()
      state = 'idle'
      attempt = 0
      return stopAll(new NetworkError({ endpoint, details: 'websocket closed by the client' }), 'close')
    },
    destroy() {
      destroying ??= (() => {
        state = 'destroyed'
        const closed = stopAll(new PoolDestroyedError({ endpoint }), 'destroy')
        for (const sub of [...subs]) endSub(sub)
        emitter.removeAllListeners()
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
        subscriptions: subs.size,
        reconnectAttempt: attempt,
        ...counts,
      }),
    on(event, listener) {
      emitter.on(event, listener as never)
      return transport
    },
    once(event, listener) {
      emitter.once(event, listener as never)
      return transport
    },
    off(event, listener) {
      emitter.off(event, listener as never)
      return transport
    },
  }
  return transport
}

// ---- helpers --------------------------------------------------------------------------------------

/** A lower bound of a frame's size in bytes (exact for binary frames). */
function frameSize(data: unknown): number {
  if (typeof data === 'string') return data.length
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  return 0
}

/** The text of a frame: a string, or UTF-8 bytes (some nodes send JSON in binary frames). */
function frameText(data: unknown): string | undefined {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(data as ArrayBuffer)
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * A socket's error event as one of ours. `ws` reports a refused upgrade as "Unexpected server
 * response: STATUS", which says more than "network error": a 401 is a bad key, a 429 a throttle.
 * Browsers give no details at all.
 */
function socketError(event: WebSocketEventLike, endpoint: string): ResilientRpcError {
  const cause = event.error
  const message = cause instanceof Error ? cause.message : ''
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1]
  if (status !== undefined) {
    const code = Number(status)
    if (code === 401 || code === 403) return new UnauthorizedError(code, { endpoint, cause })
    if (code === 429) return new RateLimitedError(undefined, { endpoint, cause })
    return new HttpError(code, { endpoint, cause, details: 'websocket upgrade refused' })
  }
  // Only the error code (ECONNREFUSED, …): lower layers' messages may quote more of the URL.
  const errno = (cause as { code?: unknown } | undefined)?.code
  return new NetworkError({ endpoint, cause, details: typeof errno === 'string' ? `websocket error ${errno}` : 'websocket error' })
}

function asRpcError(error: unknown, endpoint: string, details: string): ResilientRpcError {
  return isResilientRpcError(error) ? error : new NetworkError({ endpoint, details, cause: error })
}
