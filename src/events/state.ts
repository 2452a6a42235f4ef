import type { Pool } from '../pool/pool.js'
import type { CanonicalChain } from './chain.js'
import type { Progress } from './checkpoint.js'
import type { LogFilter } from '../subscriptions/logs.js'
import type { EventDecoder, WatchedEvent } from './decoder.js'
import type { RangeSize } from './rangeSize.js'

/** What the watcher's steps work with: built once by `watchEvents`, shared by every step. */
export type WatchState = {
  readonly pool: Pool
  /** Aborted when the watcher stops: every request and wait of a step ends with it. */
  readonly signal: AbortSignal
  /** The `address` and `topics` every `eth_getLogs` of the watcher sends. */
  readonly filter: LogFilter
  readonly decoder: EventDecoder
  /** The hashes the head stream vouches for, within the reorg window. */
  readonly chain: CanonicalChain
  /** Blocks per by-number range. */
  readonly range: RangeSize
  readonly progress: Progress
  /** Logs held at once from one range. */
  readonly maxBufferedLogs: number
  /**
   * Hands `event` to the handler, again after back-off while it throws, until it returns, `stillWanted`
   * says no or the watcher stops. `true` only once it was handled.
   */
  deliver(event: WatchedEvent, stillWanted?: () => boolean): Promise<boolean>
}
