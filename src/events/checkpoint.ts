import type { WatchedEvent } from './decoder.js'

/** What was delivered of one block inside the reorg window: its hash then, and its events in order. */
type DeliveredBlock = { readonly hash: string; readonly events: WatchedEvent[] }

/**
 * The watcher's cursor: the last fully processed block (the checkpoint), and the events delivered
 * from blocks still inside the reorg window, which a reorg would have to take back. The one owner of
 * both; the steps change them through these methods only.
 */
export class Progress {
  #processed: bigint | undefined
  readonly #delivered = new Map<bigint, DeliveredBlock>()
  readonly #onCheckpoint: (block: bigint) => Promise<void>

  /** `onCheckpoint` tells the user (awaited, retried by the caller's rules). */
  constructor(onCheckpoint: (block: bigint) => Promise<void>) {
    this.#onCheckpoint = onCheckpoint
  }

  /** The last fully processed block; `undefined` until the start is known. */
  get processed(): bigint | undefined {
    return this.#processed
  }

  /** The start: nothing up to `block` is ours to deliver. Not a checkpoint (nothing was handled). */
  start(block: bigint): void {
    this.#processed = block
  }

  /** Every event up to `block` was handled: moves the cursor there (up or, after a reorg, down) and tells the user. */
  async checkpoint(block: bigint): Promise<void> {
    this.#processed = block
    await this.#onCheckpoint(block)
  }

  /** `event` of block `n` (whose canonical hash is `hash`) was handled. */
  delivered(n: bigint, hash: string, event: WatchedEvent): void {
    const entry = this.#delivered.get(n)
    if (entry === undefined) this.#delivered.set(n, { hash, events: [event] })
    else entry.events.push(event)
  }

  /** Blocks from `lowest` up with delivered events whose hash is no longer `canonical(n)`, newest first. */
  orphaned(lowest: bigint, canonical: (n: bigint) => string | undefined): bigint[] {
    return [...this.#delivered.entries()]
      .filter(([n, d]) => n >= lowest && canonical(n) !== d.hash.toLowerCase())
      .map(([n]) => n)
      .sort((a, b) => (a > b ? -1 : 1))
  }

  /** The last event delivered of block `n` and not taken back, if any. */
  lastDelivered(n: bigint): WatchedEvent | undefined {
    return this.#delivered.get(n)?.events.at(-1)
  }

  /** The handler was told that `lastDelivered(n)` is removed. */
  takeBack(n: bigint): void {
    const entry = this.#delivered.get(n)
    entry?.events.pop()
    if (entry?.events.length === 0) this.#delivered.delete(n)
  }

  /** Blocks at or below `settledAt` left the reorg window: they can no longer be reported as removed. */
  settle(settledAt: bigint): void {
    for (const n of this.#delivered.keys()) if (n <= settledAt) this.#delivered.delete(n)
  }

  /** The watcher ended: nothing of it stays behind. */
  clear(): void {
    this.#delivered.clear()
  }
}
