import { InvalidResponseError } from '../errors/endpoint.js'
import { HASH, HEX_QUANTITY } from '../util/hex.js'

/** A block header as the node sent it (`newHeads` shape); `number`, `hash` and `parentHash` are checked. */
export type BlockHeader = {
  readonly number: string
  readonly hash: string
  readonly parentHash: string
  readonly [field: string]: unknown
}

export type BlockRef = { readonly number: bigint; readonly hash: string }

/** Blocks already delivered left the canonical chain; the heads that replace them follow. */
export type HeadsReorg = {
  /** The newest delivered block still canonical, if it is known. */
  readonly ancestor: BlockRef | undefined
  /** Delivered blocks no longer canonical, oldest first. */
  readonly removed: readonly BlockRef[]
}

/** Blocks (or logs of blocks) `from`…`to` were never delivered: more than `maxBackfill` went by unseen. */
export type SubscriptionGap = { readonly from: bigint; readonly to: bigint; readonly reason: string }

export type HeadSink = {
  head(header: BlockHeader): void
  reorg(e: HeadsReorg): void
  gap(e: SubscriptionGap): void
}

export type FetchBlock = (hash: string, signal: AbortSignal) => Promise<unknown>
/** The canonical hash at a height, `undefined` if there is no block there. */
export type CanonicalHash = (number: bigint, signal: AbortSignal) => Promise<string | undefined>


/** Checks the three fields the tracker relies on, and drops a full block's body (heads are headers). */
export function toHeader(value: unknown, endpoint?: string): BlockHeader {
  const v = value as Record<string, unknown> | null
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.number !== 'string' ||
    !HEX_QUANTITY.test(v.number) ||
    typeof v.hash !== 'string' ||
    !HASH.test(v.hash) ||
    typeof v.parentHash !== 'string' ||
    !HASH.test(v.parentHash)
  ) {
    throw new InvalidResponseError(`not a block header: ${JSON.stringify(value)?.slice(0, 80)}`, { endpoint })
  }
  // Hashes are compared as strings: one spelling for every source.
  const { transactions: _t, uncles: _u, ...header } = v
  return { ...header, hash: v.hash.toLowerCase(), parentHash: v.parentHash.toLowerCase() } as BlockHeader
}

/**
 * Turns heads from any source, in any order, with gaps and repeats, into one exactly-once, in-order
 * stream with reorg notices. Remembers the hashes of the last `window` delivered numbers: a head
 * that does not extend the last delivered one is linked to them through its parents (fetched by
 * hash), so missed blocks are delivered and blocks that left the chain are reported.
 */
export class HeadTracker {
  readonly #delivered = new Map<bigint, string>()
  #last: BlockRef | undefined
  readonly #fetch: FetchBlock
  readonly #sink: HeadSink
  readonly #window: bigint
  readonly #canonicalHash: CanonicalHash | undefined

  /** Without `canonicalHash`, a head below every remembered block is always taken for a slow source's. */
  constructor(fetch: FetchBlock, sink: HeadSink, maxBackfill: number, canonicalHash?: CanonicalHash) {
    this.#fetch = fetch
    this.#sink = sink
    this.#window = BigInt(Math.max(1, maxBackfill))
    this.#canonicalHash = canonicalHash
  }

  /** The last delivered head. */
  get last(): BlockRef | undefined {
    return this.#last
  }

  /**
   * Delivers `header` and whatever it takes to reach it from the last delivered head. Rejects (with
   * nothing delivered past the last consistent point) if fetching a parent fails; call again.
   */
  async advance(header: BlockHeader, signal: AbortSignal): Promise<void> {
    const number = BigInt(header.number)
    const last = this.#last
    if (last === undefined) return this.#deliver([header])
    if (this.#delivered.get(number) === header.hash) return
    // Older than anything remembered: a slow source's head, or the chain got shorter than where this
    // stream started. Only the chain itself can tell: is the oldest remembered block still there?
    const lowest = this.#lowest()
    if (number < lowest) {
      if (this.#canonicalHash === undefined) return
      const hash = await this.#canonicalHash(lowest, signal)
      if (signal.aborted) throw signal.reason
      if (hash?.toLowerCase() === this.#delivered.get(lowest)) return
      const removed = this.#removeAbove(-1n)
      this.#sink.reorg({ ancestor: undefined, removed })
      return this.#deliver([header])
    }
    // Walk back through parents until one is a delivered block, or the walk has gone as far as allowed.
    const path: BlockHeader[] = [header]
    const floor = number - this.#window // blocks at or below it are not fetched: that far is a gap
    for (;;) {
      const top = path[0]!
      const parentNumber = BigInt(top.number) - 1n
      if (this.#delivered.get(parentNumber) === top.parentHash) return this.#link(path, { number: parentNumber, hash: top.parentHash })
      if (parentNumber <= floor || parentNumber < lowest || parentNumber < 0n) return this.#unlinked(path, parentNumber)
      const parent = toHeader(await this.#fetch(top.parentHash, signal))
      if (signal.aborted) throw signal.reason
      if (BigInt(parent.number) !== parentNumber || parent.hash !== top.parentHash) {
        throw new InvalidResponseError(`block ${top.parentHash} came back as ${parent.number}/${parent.hash}`)
      }
      path.unshift(parent)
    }
  }

  /** `path` continues from the delivered block `ancestor`: blocks after the ancestor were reorged out. */
  #link(path: BlockHeader[], ancestor: BlockRef): void {
    const removed = this.#removeAbove(ancestor.number)
    if (removed.length > 0) this.#sink.reorg({ ancestor, removed })
    this.#deliver(path)
  }

  /** No delivered block is an ancestor of `path` within reach: report a gap, or a reorg deeper than the window. */
  #unlinked(path: BlockHeader[], parentNumber: bigint): void {
    const last = this.#last!
    // A delivered block where the path's parent should be, with another hash, left the chain too.
    const known = this.#delivered.get(parentNumber)
    const removed = this.#removeAbove(known !== undefined && known !== path[0]!.parentHash ? parentNumber - 1n : parentNumber)
    if (removed.length > 0) this.#sink.reorg({ ancestor: undefined, removed })
    if (parentNumber > last.number) this.#sink.gap({ from: last.number + 1n, to: parentNumber, reason: `more than maxBackfill (${this.#window}) blocks missed` })
    this.#deliver(path)
  }

  #lowest(): bigint {
    let lowest = this.#last!.number
    for (const n of this.#delivered.keys()) if (n < lowest) lowest = n
    return lowest
  }

  #removeAbove(number: bigint): BlockRef[] {
    const removed: BlockRef[] = []
    for (const [n, hash] of this.#delivered) if (n > number) removed.push({ number: n, hash })
    removed.sort((a, b) => (a.number < b.number ? -1 : 1))
    for (const r of removed) this.#delivered.delete(r.number)
    return removed
  }

  #deliver(path: readonly BlockHeader[]): void {
    for (const header of path) {
      const number = BigInt(header.number)
      this.#delivered.set(number, header.hash)
      this.#last = { number, hash: header.hash }
      // The sink guards the listener: a throw there must not stop the rest of the path.
      this.#sink.head(header)
    }
    const oldest = this.#last!.number - this.#window
    for (const n of this.#delivered.keys()) if (n <= oldest) this.#delivered.delete(n)
  }
}
