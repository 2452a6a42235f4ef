import { HEX_QUANTITY, toQuantity } from '../util/hex.js'
/**
 * Which block a request reads, so the balancer knows whether a lagging endpoint may serve it:
 * - `latest`: depends on the newest state (the default for every method not listed below, and
 *   explicitly for receipts and transactions by hash, which a lagging node may not have yet);
 * - `number`: pinned to a block number, servable by any endpoint whose head has reached it;
 * - `hash`: pinned to a block hash, servable by any endpoint (a `null` from one behind the head is retried).
 */
export type BlockTarget = { kind: 'latest' } | { kind: 'number'; block: bigint } | { kind: 'hash' } | AtLeastTarget

/**
 * The latest state, but no older than `block` (the pool's read floor): the pool sets it, `blockTarget`
 * never returns it. `pinnable`: an endpoint not known to have `block` is asked at `block` instead of
 * `latest` (so it may serve, like a read pinned there); otherwise only endpoints known to have it may.
 */
export type AtLeastTarget = { kind: 'atLeast'; block: bigint; pinnable: boolean }

const LATEST: BlockTarget = { kind: 'latest' }
const HASH: BlockTarget = { kind: 'hash' }

// Position of the block parameter for methods that take one.
const BLOCK_PARAM_INDEX: Record<string, number> = {
  eth_getBalance: 1,
  eth_getCode: 1,
  eth_getTransactionCount: 1,
  eth_getStorageAt: 2,
  eth_call: 1,
  eth_estimateGas: 1,
  eth_createAccessList: 1,
  eth_getProof: 2,
  eth_getBlockByNumber: 0,
  eth_getBlockTransactionCountByNumber: 0,
  eth_getTransactionByBlockNumberAndIndex: 0,
  eth_getUncleCountByBlockNumber: 0,
  eth_getUncleByBlockNumberAndIndex: 0,
  eth_getBlockReceipts: 0,
  debug_traceCall: 1,
  trace_call: 2,
  trace_block: 0,
}

const BY_HASH = new Set([
  'eth_getBlockByHash',
  'eth_getBlockTransactionCountByHash',
  'eth_getTransactionByBlockHashAndIndex',
  'eth_getUncleCountByBlockHash',
  'eth_getUncleByBlockHashAndIndex',
])

/** Where `method` takes its block parameter, `undefined` for methods without one (`eth_getLogs` has it in its filter). */
export function blockParamIndex(method: string): number | undefined {
  return Object.hasOwn(BLOCK_PARAM_INDEX, method) ? BLOCK_PARAM_INDEX[method] : undefined
}

// Block lookups by number whose answer for a block that exists is never `null`: their `null` means
// the endpoint does not have the block (yet). Not those by index (`null` also for an index past the end).
const NULL_WHEN_MISSING = new Set(['eth_getBlockByNumber', 'eth_getBlockReceipts', 'eth_getBlockTransactionCountByNumber', 'eth_getUncleCountByBlockNumber'])

/** Whether `method`, pinned to a block number, answers `null` only when the endpoint lacks that block. */
export function nullWhenMissing(method: string): boolean {
  return NULL_WHEN_MISSING.has(method)
}

/** Classifies a request by the block it reads. Pure; unknown shapes count as `latest`. */
export function blockTarget(method: string, params: readonly unknown[]): BlockTarget {
  if (BY_HASH.has(method)) return HASH
  if (method === 'eth_getLogs') return logsTarget(params[0])
  const index = BLOCK_PARAM_INDEX[method]
  if (index === undefined) return LATEST
  return blockParamTarget(params[index])
}

function blockParamTarget(param: unknown): BlockTarget {
  if (typeof param === 'string') return numberTarget(param)
  // EIP-1898: { blockNumber } or { blockHash, requireCanonical? }.
  if (typeof param === 'object' && param !== null) {
    const { blockNumber, blockHash } = param as { blockNumber?: unknown; blockHash?: unknown }
    if (typeof blockHash === 'string') return HASH
    if (typeof blockNumber === 'string') return numberTarget(blockNumber)
  }
  return LATEST
}

function logsTarget(filter: unknown): BlockTarget {
  if (typeof filter !== 'object' || filter === null) return LATEST
  const { blockHash, toBlock } = filter as { blockHash?: unknown; toBlock?: unknown }
  if (typeof blockHash === 'string') return HASH
  // Without a numeric toBlock the range ends at `latest`.
  return typeof toBlock === 'string' ? numberTarget(toBlock) : LATEST
}

function numberTarget(tag: string): BlockTarget {
  // The usual tag answered before the regular expression is run.
  if (tag === 'latest' || !HEX_QUANTITY.test(tag)) return LATEST // 'latest', 'pending', 'safe', 'finalized', 'earliest' (treated as latest: rare, and safe)
  return { kind: 'number', block: BigInt(tag) }
}

/**
 * `params` with a `latest` (or omitted) block parameter replaced by `block`, so several endpoints
 * answer about the same state; `undefined` when the request has no such parameter to pin (already
 * pinned, by hash, another tag, or a method without one). Pure.
 */
export function pinBlock(method: string, params: readonly unknown[], block: bigint): unknown[] | undefined {
  if (method === 'eth_getLogs') return pinLogRange(params, toQuantity(block))
  const index = BLOCK_PARAM_INDEX[method]
  if (index === undefined || index > params.length) return undefined
  const param = params[index]
  if (param !== undefined && param !== 'latest') return undefined
  const pinned = [...params]
  pinned[index] = toQuantity(block)
  return pinned
}

/** An `eth_getLogs` range whose ends are `latest` or omitted (both mean the head) ends at `block` instead. */
function pinLogRange(params: readonly unknown[], block: string): unknown[] | undefined {
  const filter = params[0]
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) return undefined
  const { blockHash, fromBlock, toBlock } = filter as { blockHash?: unknown; fromBlock?: unknown; toBlock?: unknown }
  if (blockHash !== undefined) return undefined
  const moving = (tag: unknown) => tag === undefined || tag === 'latest'
  if (!moving(fromBlock) && !moving(toBlock)) return undefined
  const pinned = { ...(filter as object), ...(moving(fromBlock) ? { fromBlock: block } : {}), ...(moving(toBlock) ? { toBlock: block } : {}) }
  return [pinned, ...params.slice(1)]
}
