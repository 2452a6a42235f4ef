import { AbortedError } from '../errors/request.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { TransactionState } from '../errors/contract.js'
import type { Pool } from '../pool/pool.js'
import { timerDelay, unrefTimer, type TimerHandle } from '../util/clock.js'
import { BroadcastLoop } from './broadcastLoop.js'
import type { ResolvedOutboxOptions } from './outboxOptions.js'
import type { FinalOutboxState, OutboxEntry, OutboxHandle, OutboxState } from './outboxTypes.js'
import { watchReceipt } from './receiptWatcher.js'
import { isReplaced, RefusalClock } from './replacedOrDropped.js'
import { sendRawTransaction } from './sendRawTransaction.js'

export type TrackedContext = {
  pool: Pool
  options: ResolvedOutboxOptions
  /** A new state of this transaction (already de-duplicated). */
  report: (state: OutboxState) => void
  /** The transaction left the outbox; `removeStored`: its storage entry goes too. */
  ended: (removeStored: boolean) => void
}

/**
 * One transaction kept alive: a broadcast loop, a receipt watcher and a deadline, under one controller
 * whose abort ends them all. Owns the transaction's state and decides each transition.
 */
export class TrackedTransaction {
  readonly handle: OutboxHandle
  readonly #entry: OutboxEntry
  readonly #ctx: TrackedContext
  readonly #controller = new AbortController()
  readonly #broadcasts: BroadcastLoop
  readonly #refusals = new RefusalClock()
  /** Endpoints known to hold it in their mempool (since it was last queued or reorged). */
  readonly #acceptedBy = new Set<string>()
  #routedAcceptances = 0
  #state: OutboxState = { status: 'queued' }
  #reported: string | undefined
  #finished = false
  #mined = false
  #deadlineTimer: TimerHandle | undefined
  #resolve!: (state: FinalOutboxState) => void
  #reject!: (error: unknown) => void
  #removeAbortListener: (() => void) | undefined

  constructor(entry: OutboxEntry, ctx: TrackedContext) {
    this.#entry = entry
    this.#ctx = ctx
    this.#broadcasts = new BroadcastLoop({
      round: () => this.#round(),
      interval: ctx.options.rebroadcastInterval,
      due: () => !this.#finished && !this.#mined,
      setTimer: (fn, ms) => this.#timer(fn, ms),
      clearTimer: (handle) => ctx.options.clock.clearTimeout(handle),
    })
    const done = new Promise<FinalOutboxState>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    // Whoever holds the handle may never look at `done`: a rejection on close must not be unhandled.
    done.catch(() => {})
    const self = this
    this.handle = {
      hash: entry.hash,
      from: entry.from,
      nonce: entry.nonce,
      get state() {
        return self.#state
      },
      done,
    }
  }

  start(signal: AbortSignal | undefined): void {
    if (signal) {
      const onAbort = () => this.stop(new AbortedError({ cause: signal.reason }), true)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#removeAbortListener = () => signal.removeEventListener('abort', onAbort)
    }
    this.#report({ status: 'queued' })
    this.#armDeadline()
    void this.#watch()
    this.broadcast()
  }

  /** Broadcasts now (or right after the round in flight), unless mined or finished. */
  broadcast(): void {
    this.#broadcasts.trigger()
  }

  /** Ends with a final state: reported, timers and requests stopped, storage entry removed. */
  finish(state: FinalOutboxState): void {
    if (this.#finished) return
    this.#report(state)
    this.#end(true)
    this.#resolve(state)
  }

  /** Ends without a final state (`done` rejects): an abort removes the stored entry, a close keeps it. */
  stop(error: unknown, removeStored: boolean): void {
    if (this.#finished) return
    this.#end(removeStored)
    this.#reject(error)
  }

  #end(removeStored: boolean): void {
    this.#finished = true
    this.#controller.abort(new AbortedError({ details: 'outbox entry ended' }))
    this.#broadcasts.clear()
    if (this.#deadlineTimer !== undefined) this.#ctx.options.clock.clearTimeout(this.#deadlineTimer)
    this.#deadlineTimer = undefined
    this.#removeAbortListener?.()
    this.#ctx.ended(removeStored)
  }

  #report(state: OutboxState): void {
    const key = JSON.stringify(state, (k, v: unknown) => (k === 'receipt' ? undefined : typeof v === 'bigint' ? v.toString() : v))
    if (key === this.#reported) return
    this.#reported = key
    this.#state = state
    this.#ctx.report(state)
  }

  #timer(fn: () => void, ms: number): TimerHandle {
    const handle = this.#ctx.options.clock.setTimeout(fn, timerDelay(ms))
    if (this.#ctx.options.unref) unrefTimer(handle)
    return handle
  }

  #armDeadline(): void {
    const { clock } = this.#ctx.options
    if (this.#entry.deadline === Infinity) return
    const left = this.#entry.deadline - clock.now()
    if (left <= 0) return this.finish({ status: 'expired', last: this.#state.status })
    // Deadlines beyond the longest timer are re-armed when that timer fires.
    this.#deadlineTimer = this.#timer(() => {
      this.#deadlineTimer = undefined
      this.#armDeadline()
    }, left)
  }

  async #watch(): Promise<void> {
    const { pollInterval, clock, unref } = this.#ctx.options
    const signal = this.#controller.signal
    try {
      const { receipt, confirmations } = await watchReceipt(this.#ctx.pool, this.#entry, { signal, pollInterval, clock, unref, onState: (s) => this.#observe(s) })
      this.finish({ status: 'confirmed', blockNumber: BigInt(receipt.blockNumber), blockHash: receipt.blockHash, confirmations, reverted: receipt.status === '0x0', receipt })
    } catch (error) {
      // The entry ended (its abort ended the watch), or nothing can follow the receipt any more
      // (a destroyed pool): a transaction nobody watches must not be kept alive.
      if (!signal.aborted) this.stop(error, false)
    }
  }

  #observe(s: TransactionState): void {
    if (this.#finished) return
    if (s.status === 'mined') {
      this.#mined = true
      this.#refusals.reset()
      this.#broadcasts.clear()
      this.#report(s)
      return
    }
    const was = this.#state
    // A watcher started over after an outage does not know it saw the receipt before: a pending
    // answer after `mined` is a reorg all the same.
    if (s.status === 'reorged' || was.status === 'mined') {
      if (!this.#mined && was.status === 'reorged') return
      this.#mined = false
      this.#acceptedBy.clear()
      this.#routedAcceptances = 0
      this.#report(s.status === 'reorged' ? s : { status: 'reorged', blockNumber: (was as { blockNumber: bigint }).blockNumber, blockHash: (was as { blockHash: string }).blockHash })
      // Back to pending: nodes usually return it to their mempools, a broadcast makes sure.
      this.broadcast()
    }
  }

  /** `endpoint` undefined: accepted through the pool's routing, which does not say by whom. */
  #accepted(endpoint: string | undefined): void {
    if (this.#finished || this.#mined) return
    this.#refusals.reset()
    if (endpoint === undefined) this.#routedAcceptances++
    else if (this.#acceptedBy.has(endpoint)) return
    else this.#acceptedBy.add(endpoint)
    const endpoints = [...this.#acceptedBy]
    // An acceptance through the routing may have come from a listed endpoint: it adds one only to none.
    this.#report({ status: 'accepted', endpoints, count: Math.max(endpoints.length, this.#routedAcceptances > 0 ? 1 : 0) })
  }

  /**
   * One broadcast round, bounded by the rebroadcast interval. A refusal by every endpoint reached is
   * evidence (toward `dropped`, or `replaced` once its nonce is used); an unreachable fleet is no
   * evidence of anything.
   */
  async #round(): Promise<void> {
    const { pool, options } = this.#ctx
    const { clock, rebroadcastInterval, dropAfter } = options
    const signal = this.#controller.signal
    const left = this.#entry.deadline - clock.now()
    if (signal.aborted || left <= 0) return
    let refusal: string | undefined
    try {
      await sendRawTransaction(pool, this.#entry.raw, {
        timeout: Math.min(rebroadcastInterval, left),
        signal,
        onAccepted: ({ endpoint }) => this.#accepted(endpoint),
      })
    } catch (error) {
      // No endpoint reached (or the entry ended): nothing to learn from asking for the nonce either.
      if (signal.aborted || !isResilientRpcError(error, 'TX_REJECTED')) return
      this.#refusals.refused(clock.now())
      refusal = error.shortMessage
    }
    // Checked on every round that reached a node, not only after a refusal: a node may still answer
    // "already known" from a stale mempool after another transaction took the nonce.
    let replaced: boolean
    try {
      replaced = await isReplaced(pool, this.#entry, signal)
    } catch {
      // Could not tell (endpoints failing): a later round decides.
      return
    }
    if (this.#mined || this.#finished) return
    if (replaced) return this.finish({ status: 'replaced', nonce: this.#entry.nonce })
    if (refusal !== undefined && this.#refusals.lasted(dropAfter, clock.now())) this.finish({ status: 'dropped', reason: refusal })
  }
}
