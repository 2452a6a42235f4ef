import { InvalidResponseError } from '../errors/endpoint.js'
import type { SubscriptionGap } from './heads.js'
import { HEX_QUANTITY } from '../util/hex.js'

/** A log as the node sent it (`eth_getLogs` / `logs` subscription shape). */
export type RpcLog = {
  readonly address: string
  readonly topics: readonly string[]
  readonly data: string
  readonly blockNumber: string
  readonly blockHash: string
  readonly transactionHash: string
  readonly transactionIndex: string
  readonly logIndex: string
  readonly removed?: boolean
  readonly [field: string]: unknown
}

/** Which logs: the `eth_getLogs` / `eth_subscribe('logs')` filter, without a block range. */
export type LogFilter = {
  address?: string | readonly string[]
  topics?: ReadonlyArray<string | readonly string[] | null>
}

export type LogSink = {
  log(log: RpcLog): void
  /** A delivered log left the canonical chain (a reorg); its replacement, if any, follows as a new log. */
  removed(log: RpcLog): void
  gap(e: SubscriptionGap): void
}

export type LogSource = {
  getLogs(from: bigint, to: bigint, signal: AbortSignal): Promise<unknown>
  /** The canonical hash of block `number`, `undefined` if there is no such block (yet). */
  blockHash(number: bigint, signal: AbortSignal): Promise<string | undefined>
}

type Position = { block: bigint; index: number }
type Delivered = { hash: string; logs: RpcLog[] }


export function toLog(value: unknown): RpcLog {
  const v = value as Record<string, unknown> | null
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.blockNumber !== 'string' ||
    !HEX_QUANTITY.test(v.blockNumber) ||
    typeof v.logIndex !== 'string' ||
    !HEX_QUANTITY.test(v.logIndex) ||
    typeof v.blockHash !== 'string' ||
    !Array.isArray(v.topics)
  ) {
    throw new InvalidResponseError(`not a log: ${JSON.stringify(value)?.slice(0, 80)}`)
  }
  return v as RpcLog
}

const position = (log: RpcLog): Position => ({ block: BigInt(log.blockNumber), index: Number(BigInt(log.logIndex)) })
const after = (a: Position, b: Position | undefined) => b === undefined || a.block > b.block || (a.block === b.block && a.index > b.index)

/**
 * Turns live logs and `eth_getLogs` scans into one exactly-once, in-order stream. `scanned` is the
 * block up to which every log has been delivered; the block hashes of recent blocks with delivered
 * logs are kept (`window` blocks) so a scan first checks they are still canonical and reports the
 * logs of any that are not as removed.
 */
export class LogTracker {
  #cursor: Position | undefined
  #scanned: bigint | undefined
  /** Hash of the `scanned` block when it was scanned: a reorg of blocks without our logs shows there. */
  #scannedHash: string | undefined
  /**
   * Whether live logs come from a subscription that has been up since the last successful sync. Only
   * then is a live log proof that the blocks before it were seen: after an interruption, live logs
   * wait for a sync (they are dropped; the sync fetches them).
   */
  #continuous = false
  readonly #blocks = new Map<bigint, Delivered>()
  readonly #source: LogSource
  readonly #sink: LogSink
  readonly #window: bigint

  constructor(source: LogSource, sink: LogSink, maxBackfill: number) {
    this.#source = source
    this.#sink = sink
    this.#window = BigInt(Math.max(1, maxBackfill))
  }

  /** Every log up to this block has been delivered. */
  get scanned(): bigint | undefined {
    return this.#scanned
  }

  /** The live source was (re)started: logs may have been missed until the next successful sync. */
  interrupt(): void {
    this.#continuous = false
  }

  /**
   * A log pushed by a subscription. Returns `true` when the caller should `sync()`: the log
   * contradicts what was delivered (same block, another hash: a reorg), or it arrived while the
   * stream is interrupted (it is not delivered; the sync fetches it in order with what was missed).
   */
  live(value: unknown): boolean {
    const log = toLog(value)
    const at = position(log)
    if (log.removed === true) {
      this.#remove(at.block, (l) => l.blockHash === log.blockHash && l.logIndex === log.logIndex)
      return false
    }
    if (!this.#continuous || this.#scanned === undefined) return true
    const known = this.#blocks.get(at.block)
    if (known !== undefined && known.hash !== log.blockHash.toLowerCase()) return true
    if (!after(at, this.#cursor)) return false
    // An uninterrupted subscription saw every block before this one.
    if (at.block - 1n > this.#scanned) {
      this.#scanned = at.block - 1n
      this.#scannedHash = undefined
    }
    this.#deliver(log, at)
    return false
  }

  /** Checks delivered blocks are still canonical, then delivers every log up to block `to`. */
  async sync(to: bigint, signal: AbortSignal): Promise<void> {
    await this.#checkCanonical(to, signal)
    if (this.#scanned === undefined) {
      // The first sync fixes where the stream starts: logs from the next block on.
      this.#scanned = to
      this.#scannedHash = (await this.#source.blockHash(to, signal))?.toLowerCase()
      this.#continuous = true
      return
    }
    let from = this.#scanned + 1n
    if (from > to) {
      this.#continuous = true
      return
    }
    if (to - from + 1n > this.#window) {
      const skippedTo = to - this.#window
      this.#sink.gap({ from, to: skippedTo, reason: `more than maxBackfill (${this.#window}) blocks missed` })
      from = skippedTo + 1n
    }
    const result = await this.#source.getLogs(from, to, signal)
    if (signal.aborted) throw signal.reason
    if (!Array.isArray(result)) throw new InvalidResponseError(`eth_getLogs returned ${JSON.stringify(result)?.slice(0, 40)}, expected an array`)
    const logs = result.map(toLog).filter((l) => l.removed !== true)
    logs.sort((a, b) => {
      const pa = position(a)
      const pb = position(b)
      return pa.block === pb.block ? pa.index - pb.index : pa.block < pb.block ? -1 : 1
    })
    for (const log of logs) {
      const at = position(log)
      if (after(at, this.#cursor)) this.#deliver(log, at)
    }
    if (to > this.#scanned) {
      this.#scanned = to
      this.#scannedHash = (await this.#source.blockHash(to, signal))?.toLowerCase()
    }
    this.#continuous = true
  }

  async #checkCanonical(to: bigint, signal: AbortSignal): Promise<void> {
    const numbers = [...this.#blocks.keys()].sort((a, b) => (a > b ? -1 : 1))
    for (const number of numbers) {
      const hash = number > to ? undefined : await this.#source.blockHash(number, signal)
      if (signal.aborted) throw signal.reason
      if (hash !== undefined && hash.toLowerCase() === this.#blocks.get(number)!.hash) break
      this.#remove(number, () => true)
    }
    if (this.#scanned !== undefined && this.#scanned > to) {
      this.#scanned = to
      this.#scannedHash = undefined
    }
    // Blocks without our logs can be reorged too, and the new ones may have some: scanned again from
    // the newest block known canonical (our last delivered log's, checked above).
    if (this.#scanned !== undefined && this.#scannedHash !== undefined) {
      const hash = await this.#source.blockHash(this.#scanned, signal)
      if (signal.aborted) throw signal.reason
      if (hash?.toLowerCase() !== this.#scannedHash) {
        const floor = this.#scanned - this.#window
        const back = this.#cursor !== undefined && this.#cursor.block > floor ? this.#cursor.block : floor
        this.#scanned = back < this.#scanned ? back : this.#scanned
        this.#scannedHash = undefined
      }
    }
  }

  #remove(block: bigint, which: (log: RpcLog) => boolean): void {
    const entry = this.#blocks.get(block)
    if (entry === undefined) return
    const gone = entry.logs.filter(which)
    if (gone.length === 0) return
    entry.logs = entry.logs.filter((l) => !which(l))
    if (entry.logs.length === 0) this.#blocks.delete(block)
    for (const log of gone.reverse()) this.#sink.removed({ ...log, removed: true })
    // The stream rewinds to just before the first removed log, so its replacement is delivered.
    const first = position(gone.at(-1)!)
    if (this.#cursor !== undefined && !after(first, this.#cursor)) this.#cursor = this.#lastDelivered()
    if (this.#scanned !== undefined && this.#scanned >= block) {
      this.#scanned = block - 1n
      this.#scannedHash = undefined
    }
  }

  #lastDelivered(): Position | undefined {
    let best: Position | undefined
    for (const entry of this.#blocks.values()) {
      const last = entry.logs.at(-1)
      if (last === undefined) continue
      const at = position(last)
      if (after(at, best)) best = at
    }
    return best
  }

  #deliver(log: RpcLog, at: Position): void {
    const entry = this.#blocks.get(at.block)
    if (entry === undefined) this.#blocks.set(at.block, { hash: log.blockHash.toLowerCase(), logs: [log] })
    else entry.logs.push(log)
    this.#cursor = at
    this.#sink.log(log)
    const oldest = at.block - this.#window
    for (const n of this.#blocks.keys()) if (n <= oldest) this.#blocks.delete(n)
  }
}
