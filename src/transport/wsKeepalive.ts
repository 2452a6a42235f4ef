import { NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { ResilientRpcError } from '../errors/base.js'
import type { WsKeepaliveOptions } from '../config/webSocketOptions.js'
import type { WebSocketLike } from '../types/webSocket.js'
import type { TimerHandle } from '../util/clock.js'

/** What keepalive needs of the one connection it watches. */
export type KeepaliveTarget = {
  readonly endpoint: string
  readonly socket: WebSocketLike
  readonly dead: boolean
  /** A timer owned by the connection: cleared when it ends, inert if it fires after. */
  timer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle | undefined): void
  call(method: string, params: readonly unknown[]): Promise<unknown>
  end(reason: ResilientRpcError, how: 'reconnect'): void
}

/**
 * Dead-socket detection for one connection: a probe `interval` after the connection opened and
 * after each answer — a protocol ping where the socket can send one (`ws`), else a cheap request —
 * and the socket is ended when a probe stays unanswered for `timeout`. One probe at a time, the
 * next only after an answer: a slow answer can never overlap a new probe.
 */
export class Keepalive {
  readonly #target: KeepaliveTarget
  readonly #options: Required<WsKeepaliveOptions>
  readonly #mode: 'ping' | 'request'
  #awaiting = false
  #deadline: TimerHandle | undefined

  constructor(target: KeepaliveTarget, options: Required<WsKeepaliveOptions>) {
    this.#target = target
    this.#options = options
    const canPing = typeof target.socket.ping === 'function' && typeof target.socket.on === 'function'
    this.#mode = options.mode === 'auto' ? (canPing ? 'ping' : 'request') : options.mode
  }

  /** Schedules the first probe; called once the connection is open. */
  start(): void {
    this.#target.timer(() => this.#probe(), this.#options.interval)
  }

  /** A pong, or an answer to the probe request. */
  answered(): void {
    // An unsolicited pong, or one after the connection ended, proves nothing about any probe.
    if (this.#target.dead || !this.#awaiting) return
    this.#awaiting = false
    this.#target.clearTimer(this.#deadline)
    this.#deadline = undefined
    this.start()
  }

  #probe(): void {
    const target = this.#target
    const { timeout, method } = this.#options
    this.#awaiting = true
    const what = this.#mode === 'ping' ? 'pong' : `answer to ${method}`
    this.#deadline = target.timer(() => target.end(new NetworkError({ endpoint: target.endpoint, reason: 'timed-out', details: `websocket keepalive: no ${what} within ${timeout} ms` }), 'reconnect'), timeout)
    if (this.#mode === 'ping') {
      try {
        target.socket.ping!()
      } catch (cause) {
        target.end(new NetworkError({ endpoint: target.endpoint, details: 'websocket ping failed', cause }), 'reconnect')
      }
      return
    }
    // Any answer, even an error, proves the socket alive; a rejection because the socket died is moot.
    target.call(method, []).then(
      () => this.answered(),
      (error: unknown) => {
        if (isResilientRpcError(error, 'RPC_ERROR') || isResilientRpcError(error, 'INVALID_RESPONSE')) this.answered()
      },
    )
  }
}
