import type { BlockTarget } from '../balancer/blockTarget.js'
import { quantityOrUndefined } from '../util/hex.js'
import type { CacheOptions } from '../config/policyOptions.js'

// Lookups by hash whose answer never changes once its block is final.
const BY_HASH = new Set(['eth_getTransactionReceipt', 'eth_getTransactionByHash', 'eth_getBlockByHash', 'eth_getBlockReceipts'])

/**
 * Immutable answers: reads pinned to a final block number, and lookups by hash whose block is final.
 * A bounded LRU owned by one pool: nothing is shared between pools, nothing grows without limit.
 */
export class AnswerCache {
  readonly #entries = new Map<string, unknown>()
  readonly #options: Required<CacheOptions>

  constructor(options: Required<CacheOptions>) {
    this.#options = options
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string): { hit: true; value: unknown } | undefined {
    if (!this.#entries.has(key)) return undefined
    const value = this.#entries.get(key)
    // Re-insert: Map iteration order is the LRU order.
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return { hit: true, value }
  }

  /** Keeps `result` when it can no longer change: its block is `finalityDepth` below `referenceHead`. */
  offer(key: string, method: string, target: BlockTarget, result: unknown, referenceHead: bigint | undefined): void {
    if (referenceHead === undefined || result === null || result === undefined) return
    const final = referenceHead - BigInt(this.#options.finalityDepth)
    const block = target.kind === 'number' ? target.block : BY_HASH.has(method) ? blockNumberOf(result) : undefined
    if (block === undefined || block > final) return
    this.#entries.set(key, result)
    if (this.#entries.size > this.#options.maxEntries) this.#entries.delete(this.#entries.keys().next().value!)
  }

  clear(): void {
    this.#entries.clear()
  }
}

function blockNumberOf(result: unknown): bigint | undefined {
  const value = Array.isArray(result) ? (result[0] as { blockNumber?: unknown } | undefined)?.blockNumber : (result as { blockNumber?: unknown; number?: unknown }).blockNumber ?? (result as { number?: unknown }).number
  return quantityOrUndefined(value)
}
