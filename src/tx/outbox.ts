import { EventEmitter } from 'eventemitter3'
import { Transaction } from 'ethers'
import { AbortedError } from '../errors/request.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import { duration } from '../config/validate.js'
import type { Pool } from '../pool/pool.js'
import { sleep } from '../util/sleep.js'
import { systemClock, timerDelay, unrefTimer, type Clock, type TimerHandle } from '../util/clock.js'
import { sendRawTransaction } from './sendRawTransaction.js'
import { waitForTransaction, type TransactionReceipt } from './waitForTransaction.js'
import { show } from '../util/show.js'
import { HEX_BYTES, toQuantity } from '../util/hex.js'

/**
 * Where an outbox transaction is. Final states: `confirmed`, `replaced`, `dropped`, `expired`.
 * - `queued`: stored, not yet accepted by any endpoint (every endpoint may be down).
 * - `accepted`: in the mempool of `endpoints` (ids; `count` also counts acceptances through the pool's
 *   routing, whose endpoint is not known). Reported again each time another endpoint accepts it.
 * - `mined`: in a canonical block, `confirmations` deep (reported at each new depth).
 * - `reorged`: its block left the canonical chain; it is pending again and re-broadcast.
 * - `confirmed`: `confirmations` deep: done.
 * - `replaced`: another transaction with the same sender and nonce is mined `confirmations` deep
 *   (its nonce is used and the receipt of ours does not exist): ours can never be mined.
 * - `dropped`: for `dropAfter` ms every broadcast that reached an endpoint was refused (underpriced,
 *   insufficient funds, …), none was accepted, it was not mined and its nonce is still unused.
 * - `expired`: the deadline passed first; `last` is the state it was in (it may still be mined later).
 */
export type OutboxState =
  | { status: 'queued' }
  | { status: 'accepted'; endpoints: readonly string[]; count: number }
  | { status: 'mined'; blockNumber: bigint; blockHash: string; confirmations: bigint; reverted: boolean }
  | { status: 'reorged'; blockNumber: bigint; blockHash: string }
  | { status: 'confirmed'; blockNumber: bigint; blockHash: string; confirmations: bigint; reverted: boolean; receipt: TransactionReceipt }
  | { status: 'replaced'; nonce: number }
  | { status: 'dropped'; reason: string }
  | { status: 'expired'; last: OutboxStatus }

export type OutboxStatus = OutboxState['status']
export type FinalOutboxState = Extract<OutboxState, { status: 'confirmed' | 'replaced' | 'dropped' | 'expired' }>

/**
 * One transaction as the storage keeps it: plain JSON (no bigint), enough to resume after a restart.
 * `deadline` is in the outbox clock's time (`Date.now()` by default).
 */
export type OutboxEntry = {
  hash: string
  /** The signed transaction (0x hex). */
  raw: string
  from: string
  nonce: number
  confirmations: number
  deadline: number
  /** The last state reported. */
  status: OutboxStatus
}

/**
 * Persistence of the queue, so a service can resume after a restart. `save` is called on every state
 * change (after which the entry must survive a crash), `remove` once it reaches a final state, `load`
 * by `outbox.resume()`. Methods may be async; a failing call is reported as an outbox `error` event and
 * the transaction is kept alive in memory regardless.
 * @example
 * const storage: OutboxStorage = {
 *   load: async () => (await db.all('select json from outbox')).map((r) => JSON.parse(r.json)),
 *   save: (e) => db.run('insert or replace into outbox (hash, json) values (?, ?)', e.hash, JSON.stringify(e)),
 *   remove: (hash) => db.run('delete from outbox where hash = ?', hash),
 * }
 */
export type OutboxStorage = {
  load(): OutboxEntry[] | Promise<OutboxEntry[]>
  save(entry: OutboxEntry): void | Promise<void>
  remove(hash: string): void | Promise<void>
}

export type OutboxOptions = {
  /** Where the queue is kept. @default in memory (lost on exit) */
  storage?: OutboxStorage
  /** Time between broadcasts of a transaction not yet mined (ms); an endpoint coming back up also triggers one. @default 10_000 */
  rebroadcastInterval?: number
  /** Time between receipt polls (ms). @default 2_000 */
  pollInterval?: number
  /** How long every broadcast must be refused before a transaction is `dropped` (ms). @default 120_000 */
  dropAfter?: number
  /** Time to live of a transaction without its own `deadline` or `timeout` (ms). @default 600_000 */
  timeout?: number
  /** Called on every state change of every transaction. */
  onState?: (event: OutboxStateEvent) => void
  /** Let the outbox's timers not keep a Node process alive. @default false */
  unref?: boolean
  clock?: Clock
}

export type OutboxSendOptions = {
  /** Blocks on top of the transaction's block, counting it, before it is `confirmed`. @default 1 */
  confirmations?: number
  /** Give up (`expired`) at this time, in the outbox clock's time (`Date.now()` by default). */
  deadline?: number
  /** Give up after this long (ms); with `deadline` too, the earlier wins. @default the outbox's `timeout` */
  timeout?: number
  /** Stops keeping the transaction alive: `done` rejects with `ABORTED` and the entry leaves the storage. */
  signal?: AbortSignal
  /** Called on every state change of this transaction. */
  onState?: (state: OutboxState) => void
}

export type OutboxStateEvent = { hash: string; from: string; nonce: number; state: OutboxState }

export type OutboxEvents = {
  /** A transaction changed state. */
  state: [e: OutboxStateEvent]
  /** Storage or a listener failed; the outbox carried on. */
  error: [error: unknown]
}

/** A transaction the outbox keeps alive. */
export type OutboxHandle = {
  readonly hash: string
  readonly from: string
  readonly nonce: number
  /** The last state reported. */
  readonly state: OutboxState
  /**
   * Resolves with the final state (`confirmed`, `replaced`, `dropped` or `expired`); rejects with
   * `ABORTED` when the send's signal aborts or the outbox closes first, `POOL_DESTROYED` when the pool
   * is destroyed (the stored entry stays, to be resumed). Never an unhandled rejection.
   */
  readonly done: Promise<FinalOutboxState>
}

export type Outbox = {
  /**
   * Stores a signed transaction and keeps it alive until it is `confirmations` deep, replaced, dropped
   * or past its deadline. Sending the same bytes again returns the handle already tracking them.
   * Resolves once the entry is saved.
   * @throws `INVALID_OPTION` (not a signed transaction, bad confirmations or deadline), `ABORTED` (outbox closed)
   */
  send(signedTransaction: string, options?: OutboxSendOptions): Promise<OutboxHandle>
  /** Loads the storage and keeps alive every stored transaction not tracked yet. Entries past their deadline expire at once. */
  resume(): Promise<OutboxHandle[]>
  /** The handle tracking `hash`, if any. */
  get(hash: string): OutboxHandle | undefined
  on<E extends keyof OutboxEvents>(event: E, listener: (...args: OutboxEvents[E]) => void): Outbox
  off<E extends keyof OutboxEvents>(event: E, listener?: (...args: OutboxEvents[E]) => void): Outbox
  /**
   * Stops every timer and listener; pending `done` promises reject with `ABORTED`. Stored entries stay
   * (a later outbox can `resume()` them). Does not destroy the pool. Idempotent.
   */
  close(): void
}

// The node already has these bytes (as sendRawTransaction decides): that endpoint has accepted it.
const FINAL = new Set<OutboxStatus>(['confirmed', 'replaced', 'dropped', 'expired'])

/** An in-memory `OutboxStorage` (the default): entries are copied in and out, as a real store would. */
export function createMemoryOutboxStorage(): OutboxStorage {
  const entries = new Map<string, OutboxEntry>()
  return {
    load: () => [...entries.values()].map((e) => ({ ...e })),
    save: (entry) => void entries.set(entry.hash, { ...entry }),
    remove: (hash) => void entries.delete(hash),
  }
}

/**
 * Creates a transaction outbox over `pool`: signed transactions are broadcast to every endpoint on an
 * interval and whenever an endpoint comes back up, followed until mined at depth, and reported at every
 * state change (see `OutboxState`). Survives every endpoint being down: nothing gives up before the
 * transaction's deadline. The queue is in memory unless a `storage` is given.
 * @throws `INVALID_OPTION`
 * @example
 * const outbox = createOutbox(pool, { storage })
 * await outbox.resume()
 * const tx = await outbox.send(signed, { confirmations: 3, timeout: 15 * 60_000 })
 * tx.done.then((final) => console.log(final.status))
 */
export function createOutbox(pool: Pool, options: OutboxOptions = {}): Outbox {
  return new OutboxImpl(pool, options)
}

type Resolved = {
  storage: OutboxStorage
  rebroadcastInterval: number
  pollInterval: number
  dropAfter: number
  timeout: number
  unref: boolean
  clock: Clock
  onState: ((event: OutboxStateEvent) => void) | undefined
}

class OutboxImpl implements Outbox {
  readonly #pool: Pool
  readonly #options: Resolved
  readonly #emitter = new EventEmitter<OutboxEvents>()
  readonly #tracked = new Map<string, Tracked>()
  #closed = false

  readonly #onEndpoint = ({ to }: { to: string }) => {
    if (to !== 'up') return
    for (const t of this.#tracked.values()) t.broadcast()
  }

  constructor(pool: Pool, options: OutboxOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'expected an object')
    const storage = options.storage ?? createMemoryOutboxStorage()
    for (const key of ['load', 'save', 'remove'] as const) {
      if (typeof storage[key] !== 'function') throw new InvalidOptionError(`storage.${key}`, 'expected a function')
    }
    const clock = options.clock ?? systemClock
    this.#pool = pool
    this.#options = {
      storage,
      rebroadcastInterval: duration('rebroadcastInterval', options.rebroadcastInterval, 10_000),
      pollInterval: duration('pollInterval', options.pollInterval, 2_000),
      dropAfter: duration('dropAfter', options.dropAfter, 120_000, true),
      timeout: duration('timeout', options.timeout, 600_000, false, true),
      unref: options.unref ?? false,
      clock,
      onState: options.onState,
    }
    if (options.onState !== undefined && typeof options.onState !== 'function') throw new InvalidOptionError('onState', 'expected a function')
    pool.on('endpoint:state', this.#onEndpoint)
  }

  async send(signedTransaction: string, options: OutboxSendOptions = {}): Promise<OutboxHandle> {
    if (this.#closed) throw new AbortedError({ details: 'outbox closed' })
    const { hash, from, nonce } = decode(signedTransaction)
    const existing = this.#tracked.get(hash)
    if (existing) return existing.handle
    const confirmations = options.confirmations ?? 1
    if (!Number.isSafeInteger(confirmations) || confirmations < 1) throw new InvalidOptionError('confirmations', `expected an integer >= 1, got ${show(confirmations)}`)
    const now = this.#options.clock.now()
    const timeout = duration('timeout', options.timeout, this.#options.timeout, false, true)
    if (options.deadline !== undefined && (typeof options.deadline !== 'number' || Number.isNaN(options.deadline))) {
      throw new InvalidOptionError('deadline', `expected a time in ms, got ${show(options.deadline)}`)
    }
    const deadline = Math.min(options.deadline ?? Infinity, now + timeout)
    if (options.signal?.aborted) throw new AbortedError({ cause: options.signal.reason })
    const entry: OutboxEntry = { hash, raw: signedTransaction, from, nonce, confirmations, deadline, status: 'queued' }
    // Stored before anything is sent: a crash after the first broadcast must not lose the transaction.
    try {
      await this.#options.storage.save({ ...entry })
    } catch (error) {
      this.#error(error)
    }
    if (this.#closed) throw new AbortedError({ details: 'outbox closed' })
    // A concurrent send of the same bytes may have won the race through the await.
    const raced = this.#tracked.get(hash)
    if (raced) return raced.handle
    return this.#track(entry, options.signal, options.onState).handle
  }

  async resume(): Promise<OutboxHandle[]> {
    if (this.#closed) throw new AbortedError({ details: 'outbox closed' })
    const entries = await this.#options.storage.load()
    const handles: OutboxHandle[] = []
    for (const stored of entries) {
      if (this.#closed) break
      const known = this.#tracked.get(stored.hash)
      if (known) {
        handles.push(known.handle)
        continue
      }
      let entry: OutboxEntry
      try {
        // The stored bytes are the truth: sender, nonce and hash are derived again.
        entry = { ...stored, ...decode(stored.raw) }
      } catch (error) {
        this.#error(error)
        continue
      }
      if (FINAL.has(entry.status)) {
        this.#persist(() => this.#options.storage.remove(entry.hash))
        continue
      }
      handles.push(this.#track(entry, undefined, undefined).handle)
    }
    return handles
  }

  get(hash: string): OutboxHandle | undefined {
    return this.#tracked.get(hash)?.handle
  }

  on<E extends keyof OutboxEvents>(event: E, listener: (...args: OutboxEvents[E]) => void): Outbox {
    this.#emitter.on(event, listener as never)
    return this
  }

  off<E extends keyof OutboxEvents>(event: E, listener?: (...args: OutboxEvents[E]) => void): Outbox {
    this.#emitter.off(event, listener as never)
    return this
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#pool.off('endpoint:state', this.#onEndpoint)
    for (const t of [...this.#tracked.values()]) t.stop(new AbortedError({ details: 'outbox closed' }), false)
    this.#tracked.clear()
    this.#emitter.removeAllListeners()
  }

  #track(entry: OutboxEntry, signal: AbortSignal | undefined, onState: ((state: OutboxState) => void) | undefined): Tracked {
    const t = new Tracked(entry, {
      pool: this.#pool,
      options: this.#options,
      report: (state) => {
        const event = { hash: entry.hash, from: entry.from, nonce: entry.nonce, state }
        for (const listener of [onState ? () => onState(state) : undefined, this.#options.onState ? () => this.#options.onState!(event) : undefined]) {
          try {
            listener?.()
          } catch (error) {
            this.#error(error)
          }
        }
        this.#emit('state', event)
        if (!FINAL.has(state.status)) this.#persist(() => this.#options.storage.save({ ...entry, status: state.status }))
      },
      ended: (removeStored) => {
        this.#tracked.delete(entry.hash)
        if (removeStored) this.#persist(() => this.#options.storage.remove(entry.hash))
      },
    })
    this.#tracked.set(entry.hash, t)
    t.start(signal)
    return t
  }

  /** Storage calls run one after another, so a late `save` can never resurrect a removed entry. */
  #storing: Promise<void> = Promise.resolve()
  #persist(call: () => void | Promise<void>): void {
    this.#storing = this.#storing.then(call).catch((error: unknown) => this.#error(error))
  }

  #emit<E extends keyof OutboxEvents>(event: E, ...args: OutboxEvents[E]): void {
    try {
      ;(this.#emitter.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args)
    } catch (error) {
      if (event !== 'error') this.#error(error)
    }
  }

  #error(error: unknown): void {
    this.#emit('error', error)
  }
}

/** Sender, nonce and hash of a signed transaction, or `INVALID_OPTION`. */
function decode(raw: string): { hash: string; from: string; nonce: number } {
  if (typeof raw !== 'string' || !HEX_BYTES.test(raw)) throw new InvalidOptionError('signedTransaction', 'expected the signed transaction as 0x-prefixed hex bytes')
  let tx: Transaction
  try {
    tx = Transaction.from(raw)
  } catch (cause) {
    throw new InvalidOptionError('signedTransaction', 'not a valid transaction encoding', { cause })
  }
  if (!tx.isSigned() || tx.from === null || tx.hash === null) throw new InvalidOptionError('signedTransaction', 'expected a signed transaction')
  return { hash: tx.hash, from: tx.from, nonce: tx.nonce }
}

type TrackedContext = {
  pool: Pool
  options: Resolved
  report: (state: OutboxState) => void
  /** The transaction left the outbox; `removeStored`: its storage entry goes too. */
  ended: (removeStored: boolean) => void
}

/** One transaction kept alive: a receipt watcher, a broadcast loop and a deadline, under one controller. */
class Tracked {
  readonly handle: OutboxHandle
  readonly #entry: OutboxEntry
  readonly #ctx: TrackedContext
  readonly #controller = new AbortController()
  #state: OutboxState = { status: 'queued' }
  #reported: string | undefined
  #finished = false
  #mined = false
  /** Endpoints known to hold it in their mempool (since it was last queued or reorged). */
  readonly #acceptedBy = new Set<string>()
  #routedAcceptances = 0
  /** Since when every broadcast that reached an endpoint was refused (unset while accepted or mined). */
  #refusedSince: number | undefined
  #broadcasting = false
  #again = false
  #rebroadcastTimer: TimerHandle | undefined
  #deadlineTimer: TimerHandle | undefined
  #resolve!: (state: FinalOutboxState) => void
  #reject!: (error: unknown) => void
  #removeAbortListener: (() => void) | undefined

  constructor(entry: OutboxEntry, ctx: TrackedContext) {
    this.#entry = entry
    this.#ctx = ctx
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
    if (this.#finished || this.#mined) return
    if (this.#broadcasting) {
      this.#again = true
      return
    }
    this.#broadcasting = true
    void (async () => {
      try {
        do {
          this.#again = false
          // The cadence counts from the start of a round: a round slowed by an outage (the routing
          // waits for an endpoint) is followed at once by the next one that fell due meanwhile.
          this.#scheduleRebroadcast()
          await this.#broadcastOnce()
        } while (this.#again && !this.#finished && !this.#mined)
      } catch {
        // #broadcastOnce handles its own errors; this is a last guard against an unhandled rejection.
      } finally {
        this.#broadcasting = false
      }
    })()
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
    this.#clearRebroadcast()
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

  #scheduleRebroadcast(): void {
    if (this.#finished || this.#mined) return
    this.#clearRebroadcast()
    this.#rebroadcastTimer = this.#timer(() => {
      this.#rebroadcastTimer = undefined
      this.broadcast()
    }, this.#ctx.options.rebroadcastInterval)
  }

  #clearRebroadcast(): void {
    if (this.#rebroadcastTimer !== undefined) this.#ctx.options.clock.clearTimeout(this.#rebroadcastTimer)
    this.#rebroadcastTimer = undefined
  }

  /**
   * Follows the receipt with waitForTransaction until it is deep enough. Its requests fail while every
   * endpoint is down: the watch then starts over after a poll interval, until the deadline aborts it.
   */
  async #watch(): Promise<void> {
    const { pool } = this.#ctx
    const { pollInterval, clock } = this.#ctx.options
    const signal = this.#controller.signal
    while (!signal.aborted) {
      try {
        let last: Extract<OutboxState, { status: 'mined' }> | undefined
        const receipt = await waitForTransaction(pool, this.#entry.hash, {
          confirmations: this.#entry.confirmations,
          timeout: Infinity,
          signal,
          pollInterval,
          clock,
          onState: (s) => {
            if (s.status === 'mined') last = { ...s }
            this.#observe(s)
          },
        })
        const blockNumber = BigInt(receipt.blockNumber)
        this.finish({
          status: 'confirmed',
          blockNumber,
          blockHash: receipt.blockHash,
          confirmations: last?.confirmations ?? BigInt(this.#entry.confirmations),
          reverted: receipt.status === '0x0',
          receipt,
        })
        return
      } catch (error) {
        // A destroyed pool never comes back: nothing can keep the transaction alive any more.
        if (isResilientRpcError(error, 'POOL_DESTROYED')) return this.stop(error, false)
        // Endpoints down or failing (or the end of this entry: the loop condition sees it).
        await sleep(pollInterval, { signal, clock }).catch(() => {})
      }
    }
  }

  #observe(s: { status: 'pending' } | { status: 'mined'; blockNumber: bigint; blockHash: string; confirmations: bigint; reverted: boolean } | { status: 'reorged'; blockNumber: bigint; blockHash: string }): void {
    if (this.#finished) return
    if (s.status === 'mined') {
      this.#mined = true
      this.#refusedSince = undefined
      this.#clearRebroadcast()
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

  #accepted(endpoint: string | undefined): void {
    if (this.#finished || this.#mined) return
    this.#refusedSince = undefined
    if (endpoint === undefined) this.#routedAcceptances++
    else if (this.#acceptedBy.has(endpoint)) return
    else this.#acceptedBy.add(endpoint)
    const endpoints = [...this.#acceptedBy]
    // An acceptance through the routing may have come from a listed endpoint: it adds one only to none.
    this.#report({ status: 'accepted', endpoints, count: Math.max(endpoints.length, this.#routedAcceptances > 0 ? 1 : 0) })
  }

  /**
   * One broadcast round through sendRawTransaction, bounded by the rebroadcast interval. A refusal by
   * every endpoint reached is evidence (toward `dropped`, or `replaced` once its nonce is used); an
   * unreachable fleet is no evidence of anything.
   */
  async #broadcastOnce(): Promise<void> {
    const { clock, rebroadcastInterval, dropAfter } = this.#ctx.options
    const signal = this.#controller.signal
    const left = this.#entry.deadline - clock.now()
    if (signal.aborted || left <= 0) return
    let refusal: string | undefined
    let reached = false
    try {
      await sendRawTransaction(this.#ctx.pool, this.#entry.raw, {
        timeout: Math.min(rebroadcastInterval, left),
        signal,
        onAccepted: ({ endpoint }) => this.#accepted(endpoint),
      })
      reached = true
    } catch (error) {
      if (signal.aborted) return
      if (isResilientRpcError(error, 'TX_REJECTED')) {
        reached = true
        this.#refusedSince ??= clock.now()
        refusal = error.shortMessage
      }
    }
    // No endpoint reached: nothing to learn from asking for the nonce either.
    if (!reached) return
    // Checked on every round that reached a node, not only after a refusal: a node may still answer
    // "already known" from a stale mempool after another transaction took the nonce.
    try {
      if (await this.#replaced()) return
    } catch {
      // Could not tell (endpoints failing): a later round decides.
      return
    }
    if (refusal !== undefined && this.#refusedSince !== undefined && !this.#mined && !this.#finished && clock.now() - this.#refusedSince >= dropAfter) {
      this.finish({ status: 'dropped', reason: refusal })
    }
  }

  /** Whether another transaction took our nonce, `confirmations` deep (then finishes as `replaced`). */
  async #replaced(): Promise<boolean> {
    const { pool } = this.#ctx
    const signal = this.#controller.signal
    const { from, nonce, hash, confirmations } = this.#entry
    const count = (block: string) => pool.request<string>('eth_getTransactionCount', [from, block], { signal }).then(BigInt)
    if ((await count('latest')) <= BigInt(nonce)) return false
    // The nonce is used: by ours (the watcher will see it) or by another transaction.
    if ((await pool.request<unknown>('eth_getTransactionReceipt', [hash], { signal })) !== null) return false
    const head = pool.referenceHead() ?? BigInt(await pool.request<string>('eth_blockNumber', [], { signal }))
    const at = head - BigInt(confirmations) + 1n
    if (at < 0n || (await count(toQuantity(at))) <= BigInt(nonce)) return false
    if (this.#mined || this.#finished) return false
    this.finish({ status: 'replaced', nonce })
    return true
  }
}

