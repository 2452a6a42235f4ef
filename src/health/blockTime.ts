// Recent advances kept: enough to ride out a missed slot or two, few enough that a chain that speeds
// up is believed within a handful of blocks.
const WINDOW = 8

/**
 * How long the chain takes per block, measured from how fast the confirmed head advances: each advance
 * from height h₀ (first confirmed at t₀) to h₁ (at t₁) is one sample, (t₁ − t₀) / (h₁ − h₀). The
 * estimate is the shortest of the last few samples, so it errs short: it decides how old a head may
 * be and still count as current, and too short only costs an `eth_blockNumber` round, too long a stale
 * head.
 */
export class BlockTime {
  #height: bigint | undefined
  /** When `#height` was first confirmed (clock ms). */
  #since = 0
  /**
   * The first advance after a start (or a reorg) is no sample: the height it leaves was produced
   * whenever the chain produced it, not when we first saw it, so the gap says nothing of the chain's pace.
   */
  #measuring = false
  readonly #samples: number[] = []

  /** Shortest recent time per block (ms), `undefined` until two advances were seen. */
  get value(): number | undefined {
    return this.#samples.length === 0 ? undefined : Math.min(...this.#samples)
  }

  /** The confirmed head is `head` at `now`: a new height is a sample, a lower one starts over. */
  observe(head: bigint, now: number): void {
    const height = this.#height
    if (height !== undefined && head === height) return
    if (height !== undefined && head > height && this.#measuring) {
      this.#samples.push((now - this.#since) / Number(head - height))
      if (this.#samples.length > WINDOW) this.#samples.shift()
    }
    this.#measuring = height !== undefined && head > height
    this.#height = head
    this.#since = now
  }
}
