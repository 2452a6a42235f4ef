import type { Clock } from '../util/clock.js'
import type { TransactionReceipt } from './waitForTransaction.js'

// The outbox's public shapes: what a transaction goes through, what the storage keeps, what a caller holds.

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
  /**
   * Time between receipt polls (ms), and the wait before following the receipt again after the pool
   * failed it (every endpoint down). @default 2_000
   */
  pollInterval?: number
  /** How long every broadcast must be refused before a transaction is `dropped` (ms). @default 120_000 */
  dropAfter?: number
  /** Time to live of a transaction without its own `deadline` or `timeout` (ms). @default 600_000 */
  timeout?: number
  /** Called on every state change of every transaction. */
  onState?: (event: OutboxStateEvent) => void
  /** Let the outbox's timers not keep a Node process alive. @default false */
  unref?: boolean
  /**
   * Time for deadlines, broadcast rounds and receipt polls. The wait before following the receipt
   * again after a failure is p-retry's, on the global timers. @default the system clock
   */
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
  /** Storage or a listener (a `state` listener, an `onState`) failed; the outbox carried on. */
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
  once<E extends keyof OutboxEvents>(event: E, listener: (...args: OutboxEvents[E]) => void): Outbox
  off<E extends keyof OutboxEvents>(event: E, listener?: (...args: OutboxEvents[E]) => void): Outbox
  /**
   * Stops every timer and listener; pending `done` promises reject with `ABORTED`. Stored entries stay
   * (a later outbox can `resume()` them). Does not destroy the pool. Idempotent.
   */
  close(): void
}
