import type { OutboxEntry, OutboxStorage } from './outboxTypes.js'

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
 * The outbox's writes to its storage, one after another in the order asked, so a late `save` can never
 * resurrect a removed entry (nor a late `remove` delete a newer one). A failing write goes to
 * `onError` and the queue carries on: the transaction stays alive in memory regardless.
 */
export class StorageQueue {
  readonly #storage: OutboxStorage
  readonly #onError: (error: unknown) => void
  #tail: Promise<void> = Promise.resolve()

  constructor(storage: OutboxStorage, onError: (error: unknown) => void) {
    this.#storage = storage
    this.#onError = onError
  }

  /** Resolves once this save was attempted (never rejects). */
  save(entry: OutboxEntry): Promise<void> {
    const copy = { ...entry }
    return this.#enqueue(() => this.#storage.save(copy))
  }

  /** Resolves once this removal was attempted (never rejects). */
  remove(hash: string): Promise<void> {
    return this.#enqueue(() => this.#storage.remove(hash))
  }

  #enqueue(write: () => void | Promise<void>): Promise<void> {
    this.#tail = this.#tail.then(write).then(
      () => {},
      (error: unknown) => {
        this.#onError(error)
      },
    )
    return this.#tail
  }
}
