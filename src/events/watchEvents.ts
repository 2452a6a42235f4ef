import { getAddress, type InterfaceAbi } from 'ethers'
import { AbortedError } from '../errors/request.js'
import { HandlerError } from '../errors/contract.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { InvalidResponseError, NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { ResilientRpcError } from '../errors/base.js'
import { backoffDelay } from '../policy/backoff.js'
import type { BackoffOptions } from '../config/policyOptions.js'
import type { Pool } from '../pool/pool.js'
import type { BlockHeader, HeadsReorg } from '../subscriptions/heads.js'
import { toLog, type RpcLog } from '../subscriptions/logs.js'
import { systemClock, type Clock } from '../util/clock.js'
import { sleep } from '../util/sleep.js'
import { CanonicalChain } from './chain.js'
import { createEventDecoder, type TopicFilter, type WatchedEvent } from './decoder.js'
import { isRangeRefusal } from '../errors/providerMessages.js'
import { RangeSize } from './rangeSize.js'
import { show } from '../util/show.js'
import { toQuantity } from '../util/hex.js'

export type WatchEventsOptions = {
  /** The contract(s) whose logs to watch; omit to watch every address (then give `abi` or `topics`). */
  address?: string | readonly string[]
  /** ABI (JSON or human-readable): logs are filtered to its events and decoded. */
  abi?: InterfaceAbi
  /** One event of `abi` (name or full signature) to watch; the others are not fetched. */
  eventName?: string
  /** Raw topic filter (position 0 is ignored with an `abi`: the ABI's events decide it). */
  topics?: TopicFilter
  /**
   * First block to deliver events of: a number (e.g. a persisted checkpoint + 1), or `'latest'`:
   * from the block after the confirmed head at start. @default 'latest'
   */
  fromBlock?: bigint | number | 'latest'
  /**
   * How deep a block must be before its events are delivered (0: at the head). A reorg shallower than
   * this never delivers an event of a block that left the chain; a deeper one (within `reorgWindow`)
   * delivers `removed` notices, then the replacements. @default 0
   */
  confirmations?: number
  /** Ends the watcher when aborted, like `stop()`. */
  signal?: AbortSignal
  /**
   * Every event of every block up to `block` has been handled: persist it, and resume with
   * `fromBlock: block + 1n`. Awaited; after a reorg deeper than `confirmations` it can go down.
   * A throw is reported to `onError` and retried with back-off (nothing moves on meanwhile).
   */
  onCheckpoint?: (block: bigint) => void | Promise<void>
  /** Failures the watcher recovers from by itself: a handler that threw (retried), a fetch that failed (retried). */
  onError?: (error: ResilientRpcError) => void
  /** Blocks per `eth_getLogs` range when backfilling (halved on range-limit errors, grown back after 3 successes). @default 2_000 */
  range?: number
  /**
   * Blocks below the head whose hashes are checked against the head stream; logs of these blocks are
   * fetched by block hash (EIP-234), older ones by number range. Must be more than `confirmations`. @default 64
   */
  reorgWindow?: number
  /** Logs held at once from one range: a range answering more is split (a single block is taken whole). @default 10_000 */
  maxBufferedLogs?: number
  /** Blocks of the reorg window fetched at once while catching up. @default 4 */
  parallel?: number
  /** Head polling interval when no WebSocket endpoint is up (ms), passed to `pool.subscribe`. @default 1_000 */
  pollInterval?: number
  /** Back-off between retries of a failing handler or fetch. @default { initial: 250, max: 30_000, factor: 2, jitter: 0.5 } */
  retryBackoff?: BackoffOptions
  /** @default the system clock */
  clock?: Clock
  /** Jitter source. @default Math.random */
  random?: () => number
}

export type WatchContext = {
  /** Aborted when the watcher stops: a long handler should give up then. */
  readonly signal: AbortSignal
}

/** Called with each event, one at a time: the next one waits until the returned promise settles. */
export type EventHandler = (event: WatchedEvent, context: WatchContext) => void | Promise<void>

export type EventWatcher = {
  /** Stops: no handler call starts after it; resolves once the handler in progress (if any) returned. Idempotent. */
  stop(): Promise<void>
  /** Resolves when the watcher has ended (stop, signal, or its pool destroyed). Never rejects. */
  readonly done: Promise<void>
  /** The last fully processed block (as last given to `onCheckpoint`), `undefined` before the start is known. */
  checkpoint(): bigint | undefined
}

type Delivered = { hash: string; events: WatchedEvent[] }

const DEFAULTS = { confirmations: 0, range: 2_000, reorgWindow: 64, maxBufferedLogs: 10_000, parallel: 4 }
const DEFAULT_RETRY: Required<BackoffOptions> = { initial: 250, max: 30_000, factor: 2, jitter: 0.5 }

/**
 * Delivers a contract's events exactly once, in chain order, `confirmations` deep, whatever the
 * endpoints do: it follows the pool's `newHeads` subscription (WebSocket or polling), backfills from
 * `fromBlock` with `eth_getLogs` ranges that shrink on range-limit errors, fetches recent blocks by
 * hash checked against the head stream, and reports each fully handled block to `onCheckpoint`.
 * @returns a handle to stop it
 * @throws `INVALID_OPTION`, `INVALID_ABI`, `POOL_DESTROYED` (synchronously)
 * @example
 * const watcher = watchEvents(pool, { address, abi, eventName: 'Transfer', fromBlock: saved + 1n, confirmations: 12,
 *   onCheckpoint: (block) => db.saveCheckpoint(block) }, async (event) => { await db.credit(event.args!.to, event.args!.value) })
 */
export function watchEvents(pool: Pool, options: WatchEventsOptions, handler: EventHandler): EventWatcher {
  const o = resolveOptions(options, handler)
  const decoder = createEventDecoder({ abi: options.abi, eventName: options.eventName, topics: options.topics })
  const filter = { ...(o.address === undefined ? {} : { address: o.address }), ...(decoder.topics === undefined ? {} : { topics: decoder.topics }) }
  const { clock, random, confirmations } = o
  const range = new RangeSize({ initial: o.range })
  const chain = new CanonicalChain(o.reorgWindow)
  const stopper = new AbortController()
  const signal = stopper.signal
  const context: WatchContext = { signal }

  /** Last fully processed block. */
  let processed: bigint | undefined
  const delivered = new Map<bigint, Delivered>()
  const reorgs: HeadsReorg[] = []

  const report = (error: unknown) => {
    if (signal.aborted) return
    const typed = isResilientRpcError(error) ? error : new NetworkError({ details: 'event watcher', cause: error })
    try {
      o.onError?.(typed)
    } catch {
      // An error reporter that throws has nobody left to report to.
    }
  }

  // ---- waking the worker ------------------------------------------------------------------------
  let wakeUp: (() => void) | undefined
  // Set by every head or reorg, cleared by each step: news that arrives while a step runs is not lost.
  let news = false
  const wake = () => {
    news = true
    const w = wakeUp
    wakeUp = undefined
    w?.()
  }
  /** Resolves on the next head or reorg, or on stop (a destroyed pool stops the watcher). */
  const idle = () =>
    new Promise<void>((resolve) => {
      if (news || signal.aborted) return resolve()
      const done = () => {
        signal.removeEventListener('abort', done)
        wakeUp = undefined
        resolve()
      }
      wakeUp = done
      signal.addEventListener('abort', done, { once: true })
    })

  // ---- the head stream --------------------------------------------------------------------------
  const unsubscribe = pool.subscribe(
    'newHeads',
    (head: BlockHeader) => {
      chain.add(head)
      wake()
    },
    {
      signal,
      maxBackfill: o.reorgWindow,
      ...(o.pollInterval === undefined ? {} : { pollInterval: o.pollInterval }),
      onReorg: (e) => {
        chain.remove(e.removed)
        reorgs.push(e)
        wake()
      },
      onError: report,
    },
  )

  // ---- calling the user's code: retried with back-off until it succeeds, the block leaves the chain, or stop
  const retrying = async (what: string, fn: () => void | Promise<void>, stillWanted: () => boolean, evenIfStopped = false): Promise<boolean> => {
    for (let failures = 0; ; ) {
      if ((signal.aborted && !(evenIfStopped && failures === 0)) || !stillWanted()) return false
      try {
        await fn()
        return true
      } catch (cause) {
        failures++
        report(new HandlerError(what, failures, { cause }))
        await sleep(backoffDelay(failures - 1, o.retryBackoff, random), { signal, clock })
      }
    }
  }
  const always = () => true
  const checkpoint = async (block: bigint) => {
    processed = block
    // Once more after a stop: the block is done, and a service that does not learn it would fetch it again.
    if (o.onCheckpoint) await retrying('onCheckpoint', () => o.onCheckpoint!(block), always, true)
  }

  // ---- the steps --------------------------------------------------------------------------------
  /** Delivered events of blocks that left the chain: removed notices, newest first; rewinds to below the lowest. */
  const applyReorgs = async () => {
    let lowest: bigint | undefined
    for (const r of reorgs.splice(0)) for (const b of r.removed) if (lowest === undefined || b.number < lowest) lowest = b.number
    if (lowest === undefined || processed === undefined) return
    const gone = [...delivered.entries()].filter(([n, d]) => n >= lowest && chain.hash(n) !== d.hash.toLowerCase()).sort(([a], [b]) => (a > b ? -1 : 1))
    for (const [n, entry] of gone) {
      while (entry.events.length > 0) {
        const event = entry.events.at(-1)!
        if (!(await retrying('event handler', () => handler({ ...event, removed: true }, context), always))) return
        entry.events.pop()
      }
      delivered.delete(n)
    }
    if (processed >= lowest) await checkpoint(lowest - 1n)
  }

  /** Old blocks (below the reorg window): one `eth_getLogs` by number over `from`…`to`. */
  const scanRange = async (from: bigint, to: bigint) => {
    let answer: unknown
    try {
      answer = await pool.request('eth_getLogs', [{ ...filter, fromBlock: toQuantity(from), toBlock: toQuantity(to) }], { signal })
    } catch (error) {
      if (!signal.aborted && isRangeRefusal(error) && to > from && range.shrink()) return
      throw error
    }
    const logs = parseLogs(answer, (log) => {
      const n = BigInt(log.blockNumber)
      return n >= from && n <= to
    })
    if (logs.length > o.maxBufferedLogs && to > from && range.shrink()) return
    range.succeeded(Number(to - from + 1n))
    // One block, one hash: an answer mixing two branches is no answer.
    const hashes = new Map<string, string>()
    for (const log of logs) {
      const known = hashes.get(log.blockNumber)
      if (known !== undefined && known.toLowerCase() !== log.blockHash.toLowerCase()) throw new InvalidResponseError(`eth_getLogs mixed two hashes for block ${BigInt(log.blockNumber)}`)
      hashes.set(log.blockNumber, log.blockHash)
    }
    for (const log of logs) if (!(await retrying('event handler', () => handler(decoder.decode(log, false), context), always))) return
    await checkpoint(to)
  }

  /** Recent blocks: logs fetched by each block's canonical hash, so no endpoint on another branch can answer for it. */
  const scanBlocks = async (from: bigint, to: bigint): Promise<boolean> => {
    const blocks: Array<{ n: bigint; hash: string }> = []
    for (let n = from; n <= to; n++) {
      const hash = await chain.resolve(n, (h, s) => pool.request('eth_getBlockByHash', [h, false], { signal: s }), signal)
      if (hash === undefined) break // the chain moved under us: the next step looks again
      blocks.push({ n, hash })
    }
    const answers = await Promise.all(blocks.map((b) => pool.request('eth_getLogs', [{ ...filter, blockHash: b.hash }], { signal })))
    let progressed = false
    for (const [i, { n, hash }] of blocks.entries()) {
      const canonical = () => chain.hash(n) === hash
      const logs = parseLogs(answers[i], (log) => BigInt(log.blockNumber) === n && log.blockHash.toLowerCase() === hash.toLowerCase())
      for (const log of logs) {
        const event = decoder.decode(log, false)
        if (!(await retrying('event handler', () => handler(event, context), canonical))) break
        const entry = delivered.get(n)
        if (entry === undefined) delivered.set(n, { hash, events: [event] })
        else entry.events.push(event)
      }
      if (signal.aborted || !canonical()) break
      progressed = true
      await checkpoint(n)
    }
    // What is older than the window can no longer be reported as removed: let it go.
    const settled = chain.settledAt
    if (settled !== undefined) for (const n of delivered.keys()) if (n <= settled) delivered.delete(n)
    return progressed
  }

  /** One unit of work; `false` when there is nothing to do until the next head. */
  const step = async (): Promise<boolean> => {
    news = false
    if (reorgs.length > 0) {
      await applyReorgs()
      return true
    }
    const tip = chain.tip
    if (tip === undefined) return false
    const target = tip - BigInt(confirmations)
    if (processed === undefined) {
      // The start: before it, nothing is ours to deliver.
      processed = o.fromBlock === 'latest' ? (target < -1n ? -1n : target) : o.fromBlock - 1n
      return true
    }
    if (processed >= target) return false
    const next = processed + 1n
    const settled = chain.settledAt!
    if (next <= settled) await scanRange(next, min(min(target, settled), next + BigInt(range.size) - 1n))
    // A chain that moved under the walk is news (a reorg or a gap): the next step looks again.
    else return scanBlocks(next, min(target, next + BigInt(o.parallel) - 1n))
    return true
  }

  const run = async () => {
    for (let failures = 0; !signal.aborted; ) {
      try {
        if (await step()) {
          failures = 0
          continue
        }
        await idle()
      } catch (error) {
        if (signal.aborted) return
        if (isResilientRpcError(error, 'POOL_DESTROYED')) return
        report(error)
        try {
          await sleep(backoffDelay(failures++, o.retryBackoff, random), { signal, clock })
        } catch {
          return
        }
      }
    }
  }

  const end = () => {
    if (signal.aborted) return
    stopper.abort(new AbortedError({ details: 'watcher stopped' }))
    unsubscribe()
    options.signal?.removeEventListener('abort', end)
    pool.signal.removeEventListener('abort', end)
    wake()
  }
  const done = run()
    .catch(report)
    .finally(() => {
      // The pool destroyed or a stop: either way nothing of ours stays behind.
      end()
      delivered.clear()
    })
  if (options.signal?.aborted || pool.signal.aborted) end()
  else {
    options.signal?.addEventListener('abort', end, { once: true })
    pool.signal.addEventListener('abort', end, { once: true })
  }

  return {
    stop: () => {
      end()
      return done
    },
    done,
    checkpoint: () => processed,
  }
}

function parseLogs(answer: unknown, belongs: (log: RpcLog) => boolean): RpcLog[] {
  if (!Array.isArray(answer)) throw new InvalidResponseError(`eth_getLogs returned ${JSON.stringify(answer)?.slice(0, 40)}, expected an array`)
  const logs = answer.map(toLog)
  for (const log of logs) {
    if (log.removed === true || !belongs(log)) throw new InvalidResponseError(`eth_getLogs answered a log of another block or branch (${log.blockNumber}/${log.blockHash})`)
  }
  const at = (l: RpcLog) => [BigInt(l.blockNumber), BigInt(l.logIndex)] as const
  logs.sort((a, b) => {
    const [ba, ia] = at(a)
    const [bb, ib] = at(b)
    return ba === bb ? (ia < ib ? -1 : ia > ib ? 1 : 0) : ba < bb ? -1 : 1
  })
  // A node repeating a log must not make us deliver it twice.
  return logs.filter((l, i) => i === 0 || l.blockNumber !== logs[i - 1]!.blockNumber || BigInt(l.logIndex) !== BigInt(logs[i - 1]!.logIndex))
}

const min = (a: bigint, b: bigint) => (a < b ? a : b)

function resolveOptions(options: WatchEventsOptions, handler: EventHandler) {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'expected an object')
  if (typeof handler !== 'function') throw new InvalidOptionError('handler', 'expected a function')
  const int = (name: keyof typeof DEFAULTS, least: number) => {
    const value = options[name] ?? DEFAULTS[name]
    if (!Number.isInteger(value) || value < least) throw new InvalidOptionError(name, `expected an integer >= ${least}, got ${show(value)}`)
    return value
  }
  const confirmations = int('confirmations', 0)
  const reorgWindow = int('reorgWindow', 1)
  if (reorgWindow <= confirmations) throw new InvalidOptionError('reorgWindow', `must be more than confirmations (${confirmations}), got ${reorgWindow}`)
  let address: string | string[] | undefined
  try {
    const raw = options.address
    address = raw === undefined ? undefined : typeof raw === 'string' ? getAddress(raw) : raw.map((a) => getAddress(a))
  } catch (cause) {
    throw new InvalidOptionError('address', 'not a valid address (or list of addresses)', { cause })
  }
  if (address === undefined && options.abi === undefined && options.topics === undefined) {
    throw new InvalidOptionError('address', 'give an address, an abi or topics: watching every log of the chain is not what you want')
  }
  const from = options.fromBlock ?? 'latest'
  let fromBlock: bigint | 'latest'
  if (from === 'latest') fromBlock = 'latest'
  else if ((typeof from === 'bigint' && from >= 0n) || (typeof from === 'number' && Number.isSafeInteger(from) && from >= 0)) fromBlock = BigInt(from)
  else throw new InvalidOptionError('fromBlock', `expected a block number >= 0 or 'latest', got ${show(from)}`)
  if (options.pollInterval !== undefined && (!Number.isFinite(options.pollInterval) || options.pollInterval < 10)) {
    throw new InvalidOptionError('pollInterval', `expected a number of ms >= 10, got ${show(options.pollInterval)}`)
  }
  const onCheckpoint = options.onCheckpoint
  if (onCheckpoint !== undefined && typeof onCheckpoint !== 'function') throw new InvalidOptionError('onCheckpoint', 'expected a function')
  return {
    address,
    fromBlock,
    confirmations,
    reorgWindow,
    range: int('range', 1),
    maxBufferedLogs: int('maxBufferedLogs', 1),
    parallel: int('parallel', 1),
    pollInterval: options.pollInterval,
    retryBackoff: { ...DEFAULT_RETRY, ...options.retryBackoff },
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    onCheckpoint,
    onError: options.onError,
  }
}
