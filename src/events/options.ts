import { getAddress, type InterfaceAbi } from 'ethers'
import type { BackoffOptions } from '../config/policyOptions.js'
import { DEFAULT_SUBSCRIBE } from '../config/defaults.js'
import { BACKOFF_OPTIONS } from '../config/optionNames.js'
import { backoff, bigInteger, integer, knownKeys, optionNames, optionalFunction, optionalSignal, optionsObject, positive } from '../config/validate.js'
import type { ResilientRpcError } from '../errors/base.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { show } from '../util/show.js'
import type { TopicFilter, WatchedEvent } from './decoder.js'
import type { WatchBackoff } from './retry.js'

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
  /** Head polling interval when no WebSocket endpoint is up (ms, >= 10), passed to `pool.subscribe`. @default 1_000 */
  pollInterval?: number
  /**
   * Back-off between retries of a failing handler, `onCheckpoint` or fetch (ms): `initial`, then
   * times `factor` up to `max`, each wait in `[d·(1−jitter), d]` (one random draw per failing item
   * scales all of its waits). The waits run on the global timers (p-retry's), not on a pool's clock.
   * @default { initial: 250, max: 30_000, factor: 2, jitter: 0.5 }
   */
  retryBackoff?: BackoffOptions
}

export type WatchContext = {
  /** Aborted when the watcher stops: a long handler should give up then. */
  readonly signal: AbortSignal
}

/** Called with each event, one at a time: the next one waits until the returned promise settles. */
export type EventHandler = (event: WatchedEvent, context: WatchContext) => void | Promise<void>

/** The watcher's scalar defaults. */
export const DEFAULT_WATCH = { confirmations: 0, range: 2_000, reorgWindow: 64, maxBufferedLogs: 10_000, parallel: 4 } as const

export const DEFAULT_WATCH_BACKOFF: WatchBackoff = { initial: 250, max: 30_000, factor: 2, jitter: 0.5 }

/** The options with their defaults applied, every one checked. */
export type ResolvedWatchOptions = ReturnType<typeof resolveWatchOptions>

const WATCH_OPTIONS = optionNames<WatchEventsOptions>({
  address: true,
  abi: true,
  eventName: true,
  topics: true,
  fromBlock: true,
  confirmations: true,
  signal: true,
  onCheckpoint: true,
  onError: true,
  range: true,
  reorgWindow: true,
  maxBufferedLogs: true,
  parallel: true,
  pollInterval: true,
  retryBackoff: true,
})

/**
 * Checks every option of `watchEvents` (except the ABI and topics, which the decoder checks) and
 * applies the defaults.
 * @throws `INVALID_OPTION`
 */
export function resolveWatchOptions(options: WatchEventsOptions, handler: EventHandler) {
  if (optionsObject('options', options) === undefined) throw new InvalidOptionError('options', 'expected an object, got undefined')
  knownKeys('', options, WATCH_OPTIONS)
  if (optionalFunction('handler', handler) === undefined) throw new InvalidOptionError('handler', 'expected a function, got undefined')
  const confirmations = integer('confirmations', options.confirmations, DEFAULT_WATCH.confirmations)
  const reorgWindow = integer('reorgWindow', options.reorgWindow, DEFAULT_WATCH.reorgWindow, 1)
  if (reorgWindow <= confirmations) throw new InvalidOptionError('reorgWindow', `expected an integer > confirmations (${confirmations}), got ${reorgWindow}`)
  const address = resolveAddress(options.address)
  if (address === undefined && options.abi === undefined && options.topics === undefined) {
    throw new InvalidOptionError('address', 'give an address, an abi or topics: watching every log of the chain is not what you want')
  }
  const from = options.fromBlock ?? 'latest'
  return {
    address,
    fromBlock: from === 'latest' ? ('latest' as const) : bigInteger('fromBlock', from, true),
    confirmations,
    reorgWindow,
    range: integer('range', options.range, DEFAULT_WATCH.range, 1),
    maxBufferedLogs: integer('maxBufferedLogs', options.maxBufferedLogs, DEFAULT_WATCH.maxBufferedLogs, 1),
    parallel: integer('parallel', options.parallel, DEFAULT_WATCH.parallel, 1),
    pollInterval: positive('pollInterval', options.pollInterval, DEFAULT_SUBSCRIBE.pollInterval, 10),
    retryBackoff: backoff('retryBackoff', options.retryBackoff, DEFAULT_WATCH_BACKOFF, BACKOFF_OPTIONS),
    signal: optionalSignal('signal', options.signal),
    onCheckpoint: optionalFunction('onCheckpoint', options.onCheckpoint),
    onError: optionalFunction('onError', options.onError),
  }
}

/** Checksummed, so that a typo fails here instead of matching no log. */
function resolveAddress(raw: string | readonly string[] | undefined): string | string[] | undefined {
  if (raw === undefined) return undefined
  try {
    return typeof raw === 'string' ? getAddress(raw) : raw.map((a) => getAddress(a))
  } catch (cause) {
    throw new InvalidOptionError('address', `expected an address or a list of addresses, got ${show(raw)}`, { cause })
  }
}
