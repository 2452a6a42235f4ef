import { InvalidResponseError } from '../errors/endpoint.js'
import { toHeader, type BlockHeader, type BlockRef } from '../subscriptions/heads.js'

type Link = { hash: string; parentHash: string }

export type FetchBlockByHash = (hash: string, signal: AbortSignal) => Promise<unknown>

/**
 * The canonical hashes of the last `window` blocks, as one linked run: each block's `parentHash` is
 * the hash of the block below it. Fed by the pool's `newHeads` stream (exactly once, in order, reorgs
 * reported); extended downwards on demand by walking parents by hash, so every hash in it is vouched
 * for by the head, never by whichever endpoint answered a by-number question.
 */
export class CanonicalChain {
  readonly #blocks = new Map<bigint, Link>()
  readonly #window: bigint
  #low: bigint | undefined
  #tip: bigint | undefined
  /** Bumped whenever blocks are taken out, so a walk in flight knows its result may not fit any more. */
  #generation = 0

  constructor(window: number) {
    this.#window = BigInt(window)
  }

  /** The newest block, `undefined` before the first head. */
  get tip(): bigint | undefined {
    return this.#tip
  }

  /** Blocks at or below this one are older than the window: no hash is kept or fetched for them. */
  get settledAt(): bigint | undefined {
    return this.#tip === undefined ? undefined : this.#tip - this.#window
  }

  /** The canonical hash of block `n` (lower-case) if it is held now. */
  hash(n: bigint): string | undefined {
    const known = this.#blocks.get(n)?.hash
    if (known !== undefined || this.#low === undefined || n !== this.#low - 1n) return known
    // The block just below the run is named by its child's parent link.
    return this.#blocks.get(this.#low)!.parentHash
  }

  /** A head from the stream. One that does not extend the run (after a gap) starts a new run. */
  add(header: BlockHeader): void {
    const number = BigInt(header.number)
    const top = this.#tip === undefined ? undefined : this.#blocks.get(this.#tip)
    if (top === undefined || number !== this.#tip! + 1n || top.hash !== header.parentHash.toLowerCase()) this.#reset()
    this.#blocks.set(number, { hash: header.hash.toLowerCase(), parentHash: header.parentHash.toLowerCase() })
    this.#tip = number
    this.#low ??= number
    const oldest = number - this.#window
    while (this.#low < oldest) this.#blocks.delete(this.#low++)
  }

  /** Blocks that left the canonical chain (a reorg notice): they and everything above them go. */
  remove(removed: readonly BlockRef[]): void {
    if (removed.length === 0 || this.#tip === undefined) return
    const lowest = removed.reduce((min, r) => (r.number < min ? r.number : min), removed[0]!.number)
    if (lowest > this.#tip) return
    this.#generation++
    if (lowest <= this.#low!) return this.#reset()
    for (let n = lowest; n <= this.#tip; n++) this.#blocks.delete(n)
    this.#tip = lowest - 1n
  }

  /** Forgets everything (after a gap in the head stream: what was held may not link to what comes). */
  #reset(): void {
    this.#generation++
    this.#blocks.clear()
    this.#low = undefined
    this.#tip = undefined
  }

  /**
   * The canonical hash of block `n`, fetching parents by hash down from the lowest held block if
   * needed. `undefined` when `n` is above the tip or below the window, or when the chain changed
   * under the walk (ask again).
   * @throws what `fetch` throws; `INVALID_RESPONSE` when a block comes back as another one
   */
  async resolve(n: bigint, fetch: FetchBlockByHash, signal: AbortSignal): Promise<string | undefined> {
    const generation = this.#generation
    for (;;) {
      if (this.#tip === undefined || n > this.#tip || n <= this.#tip - this.#window || n < 0n) return undefined
      const known = this.hash(n)
      if (known !== undefined) return known
      const low = this.#low!
      const want = this.#blocks.get(low)!.parentHash
      const parent = toHeader(await fetch(want, signal))
      signal.throwIfAborted()
      if (generation !== this.#generation || this.#low !== low) return undefined
      if (BigInt(parent.number) !== low - 1n || parent.hash.toLowerCase() !== want) {
        throw new InvalidResponseError(`block ${want} came back as ${parent.number}/${parent.hash}`)
      }
      this.#blocks.set(low - 1n, { hash: want, parentHash: parent.parentHash.toLowerCase() })
      this.#low = low - 1n
    }
  }
}
