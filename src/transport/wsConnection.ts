import pTimeout from 'p-timeout'
import { InvalidResponseError, NetworkError } from '../errors/endpoint.js'
import { TimeoutError } from '../errors/request.js'
import type { ResilientRpcError } from '../errors/base.js'
import type { WebSocketEventLike, WebSocketLike } from '../types/webSocket.js'
import { globalTimersOf, unrefTimer, type TimerHandle } from '../util/clock.js'
import { encodeRequest, unwrapResponse } from './jsonrpc.js'
import { asRpcError, closedError, socketError } from './wsErrors.js'
import { frameSize, frameText } from './wsFrames.js'
import { Keepalive, type KeepaliveTarget } from './wsKeepalive.js'
import type { ResolvedOptions } from './wsOptions.js'

// Ids of abandoned requests remembered per connection, so a late answer is told from a stray one.
// Bounded: a node that never answers would otherwise grow it until keepalive kills the socket.
const MAX_ABANDONED = 1_000

/** What follows the end of a connection: a reconnect, nothing until the next use (`close()`), or nothing ever (`destroy()`). */
export type EndHow = 'reconnect' | 'close' | 'destroy'

/** Where the notifications of one subscription id go; the subscription registry owns it. */
export type SubscriptionRoute = { readonly ended: boolean; readonly onMessage: (result: unknown) => void }

/** Frames the transport ignored, counted across connections for `stats()`. */
export type FrameCounts = { unknownResponses: number; lateResponses: number; unknownNotifications: number; invalidMessages: number }

/** What a connection needs from the transport that opened it. */
export type ConnectionHost = {
  readonly options: ResolvedOptions
  readonly counts: FrameCounts
  /** Request ids are unique across connections, so no answer can be mistaken for another's. */
  nextId(): number
  /** A caller's callback threw: reported, never let into the message loop. */
  report(error: unknown): void
  /** The handshake passed: the connection serves requests. */
  opened(conn: WsConnection): void
  /** The connection ended (once), after its pending requests were rejected; `how` says what follows. */
  ended(conn: WsConnection, reason: ResilientRpcError, how: EndHow, code?: number): void
}

type Call = {
  method: string
  signal: AbortSignal | undefined
  onResult: ((result: unknown) => void) | undefined
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  onAbort: () => void
  done: boolean
}

type Settle = { resolve: () => void; reject: (reason: unknown) => void }

/**
 * One connection generation: a socket and everything tied to it (pending requests, the ids it gave
 * up on, its subscription ids, its connect deadline, keepalive and stability timers), which dies with
 * it. Ending it clears its timers, detaches its listeners and rejects its pending requests at once;
 * each of its timers also checks the connection is alive before acting, so nothing of an old
 * connection ever acts on the next one.
 */
export class WsConnection implements KeepaliveTarget {
  readonly generation: number
  readonly endpoint: string
  readonly socket: WebSocketLike
  /** Socket open and handshake passed. */
  ready = false
  dead = false
  reason: ResilientRpcError | undefined
  /** Stayed open for `reconnect.stableAfter`: the endpoint is back, and losing it is a new outage. */
  stable = false
  readonly pending = new Map<number, Call>()
  readonly subs = new Map<string, SubscriptionRoute>()
  /** Resolves once the connection is `stable`; rejects with the reason it ended before. */
  readonly untilStable: Promise<void>
  /** Resolves on the socket's own `close` event. */
  readonly closed: Promise<void>

  readonly #host: ConnectionHost
  readonly #options: ResolvedOptions
  readonly #abandoned = new Map<number, string>()
  readonly #timers = new Set<TimerHandle>()
  /** Aborted when the connection ends: the handshake's own waits stop with it. */
  readonly #stop = new AbortController()
  readonly #keepalive: Keepalive | undefined
  readonly #opened: Settle
  readonly #stable: Settle
  /** Ended by a message over `maxResponseBytes`: what its pending requests fail with says so. */
  #oversized = false
  #detach: () => void = () => {}

  /** Opens the socket. @throws `NETWORK` when the WebSocket constructor throws (a URL it refuses, say). */
  constructor(host: ConnectionHost, generation: number) {
    const o = host.options
    this.#host = host
    this.#options = o
    this.generation = generation
    this.endpoint = o.endpoint
    try {
      // Browsers ignore the third argument; `ws` bounds every incoming message by `maxPayload`.
      this.socket = new o.WebSocket(o.url, o.protocols, { maxPayload: o.maxResponseBytes, ...(o.headers === undefined ? {} : { headers: o.headers }) })
    } catch (cause) {
      throw new NetworkError({ endpoint: o.endpoint, details: 'websocket could not be created', cause })
    }
    this.#keepalive = o.keepalive ? new Keepalive(this, o.keepalive) : undefined
    let stable!: Settle
    this.untilStable = new Promise<void>((resolve, reject) => (stable = { resolve, reject }))
    // Whoever awaits it sees the rejection; without this, a connection nobody awaits would report it unhandled.
    this.untilStable.catch(() => {})
    this.#stable = stable
    this.closed = this.#listen()
    let opened!: Settle
    const open = new Promise<void>((resolve, reject) => (opened = { resolve, reject }))
    this.#opened = opened
    // One wait for the socket to open and the handshake to pass, on this connection's own timers.
    pTimeout(open, {
      milliseconds: o.connectTimeout,
      customTimers: globalTimersOf({ now: o.clock.now, setTimeout: (fn, ms) => this.timer(fn, ms), clearTimeout: (handle) => this.clearTimer(handle) }),
      message: new TimeoutError('attempt', o.connectTimeout, { endpoint: o.endpoint, details: 'websocket connect and handshake' }),
    }).catch((error: unknown) => {
      // A connection that ended first is already dead; one whose handshake passed as the deadline fired has won.
      if (!this.ready) this.end(error as ResilientRpcError, 'reconnect')
    })
  }

  /** A timer owned by this connection: cleared when it ends, and inert if it fires after. */
  timer(fn: () => void, ms: number): TimerHandle {
    const handle = this.#options.clock.setTimeout(() => {
      this.#timers.delete(handle)
      if (!this.dead) fn()
    }, ms)
    if (this.#options.unref) unrefTimer(handle)
    this.#timers.add(handle)
    return handle
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return
    this.#options.clock.clearTimeout(handle)
    this.#timers.delete(handle)
  }

  /**
   * Sends one request on this connection. `onResult` runs synchronously when the answer is read,
   * before any later frame: a subscription id must be routable before the notifications that follow it.
   */
  call(method: string, params: readonly unknown[], signal?: AbortSignal, paramsJson?: string, onResult?: (result: unknown) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      if (this.dead) return reject(closedError(this.reason, this.endpoint))
      const id = this.#host.nextId()
      const call: Call = { method, signal, onResult, resolve, reject, done: false, onAbort: () => {} }
      call.onAbort = () => {
        if (this.pending.get(id) !== call) return
        this.pending.delete(id)
        if (this.#abandoned.size >= MAX_ABANDONED) this.#abandoned.delete(this.#abandoned.keys().next().value!)
        this.#abandoned.set(id, method)
        settle(call, { error: signal!.reason })
      }
      signal?.addEventListener('abort', call.onAbort, { once: true })
      this.pending.set(id, call)
      try {
        this.socket.send(encodeRequest(id, method, params, paramsJson))
      } catch (cause) {
        // Only a socket that is not open throws here: the connection is over, and this call with it.
        this.end(new NetworkError({ endpoint: this.endpoint, details: 'websocket send failed', cause }), 'reconnect')
      }
    })
  }

  /** Ends this connection and everything it owns. Idempotent; `how` tells the transport what follows. */
  end(reason: ResilientRpcError, how: EndHow, code?: number): void {
    if (this.dead) return
    this.dead = true
    this.reason = reason
    for (const handle of this.#timers) this.#options.clock.clearTimeout(handle)
    this.#timers.clear()
    this.#detach()
    try {
      // terminate(): `ws`'s closing handshake would keep a 30 s timer alive for a peer that never answers.
      if (this.socket.terminate) this.socket.terminate()
      else this.socket.close(1000)
    } catch {
      // Already closing or closed: nothing left to do.
    }
    const error = how === 'destroy' || this.#oversized ? reason : closedError(reason, this.endpoint)
    for (const call of [...this.pending.values()]) settle(call, { error })
    this.pending.clear()
    this.subs.clear()
    this.#stop.abort(reason)
    this.#opened.reject(reason)
    this.#stable.reject(reason)
    this.#host.ended(this, reason, how, code)
  }

  #listen(): Promise<void> {
    const socket = this.socket
    // Set before any listener can run: binary frames then arrive as ArrayBuffer in browsers too.
    socket.binaryType = 'arraybuffer'
    const onOpen = () => void this.#handshake()
    const onMessage = (event: WebSocketEventLike) => this.#onFrame(event)
    const onError = (event: WebSocketEventLike) => {
      if ((event.error as { code?: unknown } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#endOversized(event.error)
      else this.end(socketError(event, this.endpoint), 'reconnect')
    }
    const onClose = (event: WebSocketEventLike) => {
      const code = typeof event.code === 'number' ? event.code : undefined
      this.end(new NetworkError({ endpoint: this.endpoint, reason: 'connection-closed', details: `websocket closed by the peer${code === undefined ? '' : ` (code ${code})`}` }), 'reconnect', code)
    }
    const onPong = () => this.#keepalive?.answered()
    socket.addEventListener('open', onOpen)
    socket.addEventListener('message', onMessage)
    socket.addEventListener('error', onError)
    socket.addEventListener('close', onClose)
    socket.on?.('pong', onPong)
    // Never removed: `ws` throws an 'error' event nobody listens to, and a socket being torn down
    // may still emit one. Both die with the socket object.
    socket.addEventListener('error', () => {})
    const closed = new Promise<void>((resolve) => socket.addEventListener('close', () => resolve()))
    this.#detach = () => {
      socket.removeEventListener('open', onOpen)
      socket.removeEventListener('message', onMessage)
      socket.removeEventListener('error', onError)
      socket.removeEventListener('close', onClose)
      socket.off?.('pong', onPong)
    }
    return closed
  }

  async #handshake(): Promise<void> {
    if (this.dead) return
    const { handshake, reconnect } = this.#options
    try {
      // Internal calls carry no signal: end() rejects whatever a connection still has pending, and
      // one abort listener per call on a shared signal would trip Node's listener-leak warning.
      await handshake((method, params = []) => this.call(method, params), { signal: this.#stop.signal, endpoint: this.endpoint, generation: this.generation })
    } catch (error) {
      this.end(asRpcError(error, this.endpoint, 'websocket handshake failed'), 'reconnect')
      return
    }
    if (this.dead) return
    this.ready = true
    this.#opened.resolve()
    this.#keepalive?.start()
    const proven = () => {
      this.stable = true
      this.#stable.resolve()
    }
    // Marked at once without a delay: a connection that ends in the very tick it opened still counts.
    if (reconnect.stableAfter === 0) proven()
    else this.timer(proven, reconnect.stableAfter)
    this.#host.opened(this)
  }

  /** A message over the bound ends its connection: there is no way to tell which request it answered. */
  #endOversized(cause?: unknown): void {
    this.#oversized = true
    const reason = new InvalidResponseError(`websocket message is too large (over the ${this.#options.maxResponseBytes}-byte limit)`, {
      endpoint: this.endpoint,
      cause,
      details: 'socket closed with code 1009; every request pending on it failed',
    })
    this.end(reason, 'reconnect', 1009)
  }

  #onFrame(event: WebSocketEventLike): void {
    if (this.dead) return
    // `ws` never delivers such a message (maxPayload); a browser's WebSocket does, already whole in
    // memory. It is still not parsed.
    if (frameSize(event.data) > this.#options.maxResponseBytes) return this.#endOversized()
    const text = frameText(event.data)
    let parsed: unknown
    try {
      parsed = text === undefined ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined) {
      this.#host.counts.invalidMessages++
      return
    }
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      // A callback of an earlier item may have ended this connection (destroy() in a listener).
      if (this.dead) return
      this.#route(item)
    }
  }

  #route(item: unknown): void {
    const counts = this.#host.counts
    if (typeof item !== 'object' || item === null) {
      counts.invalidMessages++
      return
    }
    const message = item as { id?: unknown; method?: unknown; params?: { subscription?: unknown; result?: unknown } }
    if (message.method === 'eth_subscription') {
      const sub = typeof message.params?.subscription === 'string' ? this.subs.get(message.params.subscription) : undefined
      if (sub === undefined) counts.unknownNotifications++
      // Frames between unsubscribe() and the node's confirmation are expected: dropped quietly.
      else if (!sub.ended) this.#deliver(sub, message.params!.result)
      return
    }
    if (!('id' in message)) {
      counts.invalidMessages++
      return
    }
    const call = typeof message.id === 'number' ? this.pending.get(message.id) : undefined
    if (call === undefined) {
      const method = typeof message.id === 'number' ? this.#abandoned.get(message.id) : undefined
      if (method === undefined) return void counts.unknownResponses++
      counts.lateResponses++
      this.#abandoned.delete(message.id as number)
      // A subscription its caller gave up on still exists on the node: end it there too.
      const result = (message as { result?: unknown }).result
      if (method === 'eth_subscribe' && typeof result === 'string' && this.ready) void this.call('eth_unsubscribe', [result]).catch(() => {})
      return
    }
    this.pending.delete(message.id as number)
    try {
      const value = unwrapResponse(message, message.id as number, { endpoint: this.endpoint })
      call.onResult?.(value)
      settle(call, { value })
    } catch (error) {
      settle(call, { error })
    }
  }

  #deliver(sub: SubscriptionRoute, result: unknown): void {
    try {
      sub.onMessage(result)
    } catch (error) {
      this.#host.report(error)
    }
  }
}

function settle(call: Call, outcome: { value: unknown } | { error: unknown }): void {
  if (call.done) return
  call.done = true
  call.signal?.removeEventListener('abort', call.onAbort)
  if ('value' in outcome) call.resolve(outcome.value)
  else call.reject(outcome.error)
}
