import { InvalidOptionError } from '../errors/invalidOption.js'
import { InvalidResponseError, RpcResponseError } from '../errors/endpoint.js'
import type { Pool, RequestOptions } from '../pool/pool.js'
import { duration, integer, knownKeys, optionNames, optionsObject } from '../config/validate.js'
import { systemClock, type Clock } from '../util/clock.js'
import { invalidParams, parseLogCriteria, type LogCriteria } from './criteria.js'
import { showJson } from '../util/show.js'
import { bytesToHex, quantityOrUndefined, toQuantity } from '../util/hex.js'
import { isRangeRefusal } from '../errors/providerMessages.js'

/*
 * Stateful filters (eth_newFilter, eth_newBlockFilter, eth_getFilterChanges, …) live on the node that
 * created them, so behind a pool they die with a failover: the next poll lands on another endpoint,
 * which answers "filter not found" (ethers then stops delivering for good; viem re-creates the filter
 * and loses what happened in between). So the adapters never send them to a node: each filter is a
 * virtual id and a cursor (the next block to read), kept here, one store per adapter instance, and
 * every poll is made of plain reads that any endpoint having the blocks can serve:
 *
 *   1. head = eth_blockNumber through the pool (never goes backwards, except after a reorg);
 *   2. log filter: eth_getLogs { address, topics, fromBlock: cursor, toBlock } with numeric bounds up to
 *      the pool's reference head: the pool sends a read pinned to such a block only to endpoints whose
 *      head has reached it, which matters because a node asked past its own head answers with fewer
 *      logs, not an error. Blocks above the reference head (only some endpoints may have them yet) are
 *      read one by one: eth_getBlockByNumber(n), then eth_getLogs { blockHash }, which a node lacking
 *      the block refuses instead of answering empty; a block nobody asked has yet ends the poll.
 *      Block filter: eth_getBlockByNumber(n) for each new n, its hash;
 *   3. the cursor moves only past blocks whose answer arrived.
 *
 * So a failover between two polls, or inside one, can neither lose nor repeat an event. A poll reads at
 * most `maxBlockRange` blocks (a backlog is delivered over the next polls), halves its range while
 * nodes refuse it, and idle filters are forgotten after `idleTimeout`, as nodes do (checked on use:
 * no timer).
 *
 * Sticky routing plus re-creating the filter elsewhere was the alternative; it was rejected because a
 * new filter starts at the new endpoint's head: whatever happened between the last poll and the
 * failover is lost, and a lagging replacement repeats events. It also pins load to one endpoint.
 *
 * Not emulated: pending-transaction filters (each node has its own mempool, so no cursor can be
 * shared; refused with an unsupported-method error), and `removed: true` logs after a reorg that keeps
 * the height (nodes send them; a rollback that lowers the head rewinds the cursor instead, so re-mined
 * blocks are read again).
 */

export type FilterOptions = {
  /** A filter not polled for this long is forgotten, as nodes forget theirs (ms). @default 300_000 */
  idleTimeout?: number
  /**
   * Most blocks one `eth_getFilterChanges` reads with `eth_getLogs`; a longer backlog (a filter from an
   * old `fromBlock`, a slow poller) is delivered over the following polls. @default 1_000
   */
  maxBlockRange?: number
  /** Time source for idle expiry. @default the global clock */
  clock?: Clock
}

/** The filter methods of one adapter instance, emulated over `pool.request`. Internal. */
export type FilterEmulator = {
  /** Whether `method` is a filter method answered here instead of by a node. */
  handles(method: string): boolean
  /**
   * Answers a filter method like a node would.
   * @throws `RPC_ERROR` -32000 `filter not found` (unknown or expired id), -32602 (bad params), 4200
   * (`eth_newPendingTransactionFilter`), or whatever the pool throws for the reads behind it
   */
  request(method: string, params: readonly unknown[], options?: RequestOptions): Promise<unknown>
  /** Live filters. */
  readonly size: number
  /** Forgets every filter. */
  clear(): void
}

type FilterBase = {
  /** Next block to scan. */
  next: bigint
  /** Where the filter started: a rollback never rewinds it before this. */
  floor: bigint
  lastUsed: number
  /** Polls of one filter run one at a time, or two could read the same range. */
  queue: Promise<unknown>
}
type LogFilter = FilterBase & { kind: 'log'; criteria: LogCriteria; end: bigint | undefined }
type BlockFilter = FilterBase & { kind: 'block' }
type Filter = LogFilter | BlockFilter

const METHODS = new Set(['eth_newFilter', 'eth_newBlockFilter', 'eth_newPendingTransactionFilter', 'eth_getFilterChanges', 'eth_getFilterLogs', 'eth_uninstallFilter'])

// Block hashes cost one request each: a block filter catches up this many per poll (in parallel).
const BLOCKS_PER_POLL = 100n

const DEFAULT_FILTERS = { idleTimeout: 300_000, maxBlockRange: 1_000 }


/** Creates the filter state of one adapter instance. */
export function createFilterEmulator(pool: Pick<Pool, 'request' | 'referenceHead'>, options: FilterOptions = {}): FilterEmulator {
  optionsObject('filters', options)
  knownKeys('filters', options, FILTER_OPTIONS)
  const idleTimeout = duration('filters.idleTimeout', options.idleTimeout, DEFAULT_FILTERS.idleTimeout)
  const maxBlockRange = integer('filters.maxBlockRange', options.maxBlockRange, DEFAULT_FILTERS.maxBlockRange, 1)
  const clock = options.clock ?? systemClock
  const filters = new Map<string, Filter>()

  /** The pool's head: `eth_blockNumber` through the pool never goes backwards, except after a reorg. */
  const head = async (opts: RequestOptions | undefined): Promise<bigint> => {
    const result = await pool.request<unknown>('eth_blockNumber', [], opts)
    const block = quantityOrUndefined(result)
    if (block === undefined) throw new InvalidResponseError('eth_blockNumber result is not a block number', { details: `got ${showJson(result).slice(0, 40)}` })
    return block
  }

  // Expiry is checked on use rather than by a timer: nothing to stop, nothing keeping a process alive.
  const sweep = (now: number) => {
    for (const [id, f] of filters) if (now - f.lastUsed >= idleTimeout) filters.delete(id)
  }

  const install = (f: Omit<LogFilter, 'lastUsed' | 'queue'> | Omit<BlockFilter, 'lastUsed' | 'queue'>): string => {
    const id = newFilterId()
    filters.set(id, { ...f, lastUsed: clock.now(), queue: Promise.resolve() } as Filter)
    return id
  }

  const lookup = (params: readonly unknown[]): Filter => {
    const id = params[0]
    if (typeof id !== 'string') throw invalidParams('expected a filter id')
    const f = filters.get(id.toLowerCase())
    // The answer geth gives; viem re-creates its filter on it (-32000 is its InvalidInputRpcError).
    if (!f) throw new RpcResponseError({ code: -32000, message: 'filter not found' }, { details: 'answered by the filter emulation' })
    f.lastUsed = clock.now()
    return f
  }

  /** Where the next scan starts, given the head: a head below what was scanned means a rollback. */
  const cursor = (f: Filter, top: bigint): bigint => {
    if (top + 1n < f.next && f.next > f.floor) f.next = top + 1n > f.floor ? top + 1n : f.floor
    return f.next
  }

  const changes = async (f: Filter, opts: RequestOptions | undefined): Promise<unknown[]> => {
    // 1. The range: from the cursor to the head, capped, and never past a log filter's own toBlock.
    const top = await head(opts)
    const from = cursor(f, top)
    let to = top
    if (f.kind === 'log' && f.end !== undefined && f.end < to) to = f.end
    const cap = from + (f.kind === 'log' ? BigInt(maxBlockRange) : BLOCKS_PER_POLL) - 1n
    if (cap < to) to = cap
    if (from > to) return []
    // 2. Read it; 3. move the cursor past exactly what was read.
    return f.kind === 'block' ? blockHashes(f, from, to, opts) : logs(f, from, to, opts)
  }

  const blockHashes = async (f: BlockFilter, from: bigint, to: bigint, opts: RequestOptions | undefined): Promise<unknown[]> => {
    const numbers = Array.from({ length: Number(to - from + 1n) }, (_, i) => from + BigInt(i))
    const blocks = await Promise.allSettled(numbers.map((n) => pool.request<{ hash?: unknown } | null>('eth_getBlockByNumber', [toQuantity(n), false], opts)))
    const hashes: unknown[] = []
    // Delivered in order up to the first gap: a failure, or a block the endpoint asked does not have
    // yet (or no longer). The rest is read next time.
    for (const b of blocks) {
      if (b.status === 'rejected') {
        if (hashes.length === 0) throw b.reason
        break
      }
      if (b.value === null || typeof b.value !== 'object' || typeof b.value.hash !== 'string') break
      hashes.push(b.value.hash)
    }
    f.next = from + BigInt(hashes.length)
    return hashes
  }

  /**
   * The logs of [from, to]. Blocks up to the pool's reference head are read with one ranged
   * `eth_getLogs`: the pool sends a read pinned to such a block only to endpoints known to have it (a
   * node asked past its own head answers with fewer logs, not an error, so this is what makes the
   * range safe). Newer blocks, which only some endpoints may have yet, are read one by one by hash,
   * which a node lacking the block refuses rather than answers empty. What was read before a failure
   * is delivered, and the failure surfaces on the next poll.
   */
  const logs = async (f: LogFilter, from: bigint, to: bigint, opts: RequestOptions | undefined): Promise<unknown[]> => {
    const out: unknown[] = []
    const vouched = pool.referenceHead()
    const rangeEnd = vouched === undefined || vouched >= to ? to : vouched
    try {
      if (from <= rangeEnd) await ranged(f, from, rangeEnd, out, opts)
      for (let n = f.next; n <= to; n++) {
        const block = await pool.request<{ hash?: unknown } | null>('eth_getBlockByNumber', [toQuantity(n), false], opts)
        if (block === null || typeof block !== 'object' || typeof block.hash !== 'string') break
        const found = await pool.request<unknown>('eth_getLogs', [{ ...f.criteria.match, blockHash: block.hash }], opts)
        if (!Array.isArray(found)) throw new InvalidResponseError('eth_getLogs result is not an array')
        out.push(...found)
        f.next = n + 1n
      }
    } catch (error) {
      if (f.next === from) throw error
    }
    return out
  }

  /**
   * One `eth_getLogs` per span, halving the span while the nodes refuse it as too large (too many
   * results, range too wide, HTTP 413: `isRangeRefusal`, the same reading as the event watcher's).
   * Anything else (an outage, a rate limit) the pool has retried already: a smaller range would not help.
   */
  const ranged = async (f: LogFilter, from: bigint, to: bigint, out: unknown[], opts: RequestOptions | undefined): Promise<void> => {
    let span = to - from + 1n
    for (let at = from; at <= to; ) {
      const end = at + span - 1n < to ? at + span - 1n : to
      try {
        const found = await pool.request<unknown>('eth_getLogs', [{ ...f.criteria.match, fromBlock: toQuantity(at), toBlock: toQuantity(end) }], opts)
        if (!Array.isArray(found)) throw new InvalidResponseError('eth_getLogs result is not an array')
        out.push(...found)
        at = end + 1n
        f.next = at
      } catch (error) {
        if (!isRangeRefusal(error) || end === at) throw error
        span = (end - at + 1n) / 2n
      }
    }
  }

  const serial = <T>(f: Filter, run: () => Promise<T>): Promise<T> => {
    const result = f.queue.then(run)
    f.queue = result.catch(() => {})
    return result
  }

  return {
    handles: (method) => METHODS.has(method),
    get size() {
      return filters.size
    },
    clear: () => filters.clear(),
    async request(method, params, opts) {
      sweep(clock.now())
      switch (method) {
        case 'eth_newFilter': {
          const criteria = parseLogCriteria(params[0])
          // Like a node: with a `latest` start the filter reports blocks after the current head; a
          // numeric start in the past delivers its backlog first (anvil and Erigon do the same).
          const start = criteria.from.kind === 'number' ? criteria.from.block : (await head(opts)) + 1n
          const end = criteria.to.kind === 'number' ? criteria.to.block : undefined
          return install({ kind: 'log', criteria, next: start, floor: start, end })
        }
        case 'eth_newBlockFilter': {
          const start = (await head(opts)) + 1n
          return install({ kind: 'block', next: start, floor: start })
        }
        case 'eth_newPendingTransactionFilter':
          throw new RpcResponseError(
            { code: 4200, message: 'the method eth_newPendingTransactionFilter does not exist/is not available: pending transactions differ per node, so a pool cannot follow them' },
            { details: 'answered by the filter emulation' },
          )
        case 'eth_getFilterChanges': {
          const f = lookup(params)
          return serial(f, () => changes(f, opts))
        }
        case 'eth_getFilterLogs': {
          const f = lookup(params)
          if (f.kind !== 'log') throw new RpcResponseError({ code: -32000, message: 'filter not found' }, { details: 'not a log filter' })
          return pool.request('eth_getLogs', [f.criteria.raw], opts)
        }
        case 'eth_uninstallFilter': {
          const id = params[0]
          if (typeof id !== 'string') throw invalidParams('expected a filter id')
          return filters.delete(id.toLowerCase())
        }
        default:
          throw new InvalidOptionError('method', `${method} is not a filter method`)
      }
    },
  }
}

/** 16 random bytes, like geth's ids: an id from another provider or a real node is never mistaken for ours. */
function newFilterId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  return bytesToHex(bytes)
}

const FILTER_OPTIONS = optionNames<FilterOptions>({ idleTimeout: true, maxBlockRange: true, clock: true })
