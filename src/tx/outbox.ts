import { AbortedError } from '../errors/request.js'
import type { Pool } from '../pool/pool.js'
import { EventSource } from '../util/emitter.js'
import { resolveOutboxOptions, resolveSendOptions, type ResolvedOutboxOptions } from './outboxOptions.js'
import { StorageQueue } from './outboxStorage.js'
import type { Outbox, OutboxEntry, OutboxEvents, OutboxHandle, OutboxOptions, OutboxSendOptions, OutboxState, OutboxStatus } from './outboxTypes.js'
import { decodeSignedTransaction } from './signedTransaction.js'
import { TrackedTransaction } from './trackedTransaction.js'

const FINAL = new Set<OutboxStatus>(['confirmed', 'replaced', 'dropped', 'expired'])

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

class OutboxImpl extends EventSource<OutboxEvents> implements Outbox {
  readonly #pool: Pool
  readonly #options: ResolvedOutboxOptions
  readonly #storage: StorageQueue
  readonly #tracked = new Map<string, TrackedTransaction>()
  #closed = false

  readonly #onEndpoint = ({ to }: { to: string }) => {
    if (to !== 'up') return
    for (const t of this.#tracked.values()) t.broadcast()
  }

  constructor(pool: Pool, options: OutboxOptions) {
    super()
    this.#pool = pool
    this.#options = resolveOutboxOptions(options)
    this.#storage = new StorageQueue(this.#options.storage, (error) => this.#error(error))
    pool.on('endpoint:state', this.#onEndpoint)
  }

  async send(signedTransaction: string, options: OutboxSendOptions = {}): Promise<OutboxHandle> {
    if (this.#closed) throw closedError()
    const { hash, from, nonce } = decodeSignedTransaction(signedTransaction)
    const existing = this.#tracked.get(hash)
    if (existing) return existing.handle
    const { confirmations, deadline, signal, onState } = resolveSendOptions(options, this.#options)
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
    const entry: OutboxEntry = { hash, raw: signedTransaction, from, nonce, confirmations, deadline, status: 'queued' }
    // Stored before anything is sent: a crash after the first broadcast must not lose the transaction.
    await this.#storage.save(entry)
    if (this.#closed) throw closedError()
    // A concurrent send of the same bytes may have won the race through the await.
    const raced = this.#tracked.get(hash)
    if (raced) return raced.handle
    // An abort during the save would never fire again for the tracked transaction.
    if (signal?.aborted) {
      void this.#storage.remove(hash)
      throw new AbortedError({ cause: signal.reason })
    }
    return this.#track(entry, signal, onState).handle
  }

  async resume(): Promise<OutboxHandle[]> {
    if (this.#closed) throw closedError()
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
        entry = { ...stored, ...decodeSignedTransaction(stored.raw) }
      } catch (error) {
        this.#error(error)
        continue
      }
      if (FINAL.has(entry.status)) {
        void this.#storage.remove(entry.hash)
        continue
      }
      handles.push(this.#track(entry, undefined, undefined).handle)
    }
    return handles
  }

  get(hash: string): OutboxHandle | undefined {
    return this.#tracked.get(hash)?.handle
  }


  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#pool.off('endpoint:state', this.#onEndpoint)
    for (const t of [...this.#tracked.values()]) t.stop(closedError(), false)
    this.#tracked.clear()
    this.emitter.removeAllListeners()
  }

  #track(entry: OutboxEntry, signal: AbortSignal | undefined, onState: ((state: OutboxState) => void) | undefined): TrackedTransaction {
    const t = new TrackedTransaction(entry, {
      pool: this.#pool,
      options: this.#options,
      report: (state) => {
        const event = { hash: entry.hash, from: entry.from, nonce: entry.nonce, state }
        this.#call(onState, state)
        this.#call(this.#options.onState, event)
        this.emitter.emit('state', event)
        if (!FINAL.has(state.status)) void this.#storage.save({ ...entry, status: state.status })
      },
      ended: (removeStored) => {
        this.#tracked.delete(entry.hash)
        if (removeStored) void this.#storage.remove(entry.hash)
      },
    })
    this.#tracked.set(entry.hash, t)
    t.start(signal)
    return t
  }

  /** A caller's callback: its throw is reported and changes nothing. */
  #call<A>(callback: ((arg: A) => void) | undefined, arg: A): void {
    try {
      callback?.(arg)
    } catch (error) {
      this.#error(error)
    }
  }

  #error(error: unknown): void {
    this.emitter.emit('error', error)
  }
}

function closedError(): AbortedError {
  return new AbortedError({ details: 'outbox closed' })
}
