import { blockParamIndex, pinBlock } from '../balancer/blockTarget.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import { isQuantity } from '../util/hex.js'
import type { Call, FloorRule } from './call.js'
import type { PoolCore } from './core.js'

// Reads of the latest state the floor holds to (see docs/concepts/consistency.md): their answer
// depends on which block the endpoint is at.
const STATE_READS = new Set([
  'eth_call',
  'eth_getBalance',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_getTransactionCount',
  'eth_getBlockByNumber',
  'eth_getLogs',
  'eth_estimateGas',
  'eth_createAccessList',
  'eth_getProof',
])

/**
 * The pool's read floor: no read of the latest state is answered from a block below it. It is the
 * highest head the pool has confirmed (two endpoints agree, or the only live one reports it) and no
 * lower than any block the pool returned for `eth_blockNumber` or pinned a read to. A reorg, or a head
 * only one endpoint vouched for giving way, lowers it. One per pool; the request path reads it.
 */
export class ReadFloor {
  readonly #core: PoolCore
  /** Highest block returned for `eth_blockNumber` or used for a pinned read. */
  #seen: bigint | undefined
  /** The rules for the current floor, made once per floor value: nothing allocated per request. */
  #rules: { pin: FloorRule; atLeast: FloorRule } | undefined

  constructor(core: PoolCore) {
    this.#core = core
  }

  get value(): bigint | undefined {
    const confirmed = this.#core.health?.confirmed?.head
    if (confirmed === undefined) return this.#seen
    return this.#seen === undefined || confirmed > this.#seen ? confirmed : this.#seen
  }

  /** The pool returned `block` for `eth_blockNumber`, or answered a read pinned to it. */
  raise(block: bigint): void {
    if (this.#seen === undefined || block > this.#seen) this.#seen = block
  }

  /** A reorg (or a head that gave way): blocks above `to` may be gone. */
  lower(to: bigint): void {
    if (this.#seen !== undefined && this.#seen > to) this.#seen = to
  }

  /**
   * What a latest-state read must do to stay at or above the floor, decided once per request:
   * `pin` — its block parameter says `latest`, so an endpoint not known to be at the floor is asked
   * at the floor's block instead; `atLeast` — it has no block parameter to pin (none is ever added:
   * some nodes refuse a second parameter to `eth_estimateGas`), so only endpoints known to have the
   * floor's block may serve it. `undefined`: the floor does not concern it.
   */
  rule(call: Call): FloorRule | undefined {
    if (call.target.kind !== 'latest' || !STATE_READS.has(call.method)) return undefined
    const floor = this.value
    if (floor === undefined) return undefined
    if (floor !== this.#rules?.pin.floor) this.#rules = { pin: rule('pin', floor), atLeast: rule('atLeast', floor) }
    if (call.method === 'eth_getLogs') return logsPinnable(call.params) ? this.#rules.pin : undefined
    const index = blockParamIndex(call.method)!
    const param = call.params[index]
    // `pending` stays `pending`; other tags (safe, finalized, earliest) are older than any head by design.
    if (param === 'latest') return this.#rules.pin
    if (param === undefined && index >= call.params.length) return this.#rules.atLeast
    return undefined
  }
}

function rule(kind: FloorRule['kind'], floor: bigint): FloorRule {
  return { kind, floor, target: { kind: 'atLeast', block: floor, pinnable: kind === 'pin' } }
}

/**
 * The params of `call` for `endpoint` under `rule`: its own when the endpoint is known to have the
 * floor's block (its `latest` is at least as new) and its head is trusted, else pinned to the floor —
 * an endpoint `ahead` of the others (`distrusted`) serves the floor's block, never its own `latest`.
 * `undefined`: unchanged.
 */
export function pinnedParams(call: Call, rule: FloorRule, endpoint: Endpoint, distrusted = false): readonly unknown[] | undefined {
  const { head } = endpoint.view
  if (rule.kind !== 'pin' || (head !== undefined && head >= rule.floor && !distrusted)) return undefined
  if (call.method === 'eth_getLogs') {
    const { fromBlock } = call.params[0] as { fromBlock?: unknown }
    // A range that starts above the floor reads blocks newer than it anyway: nothing to pin.
    if (isQuantity(fromBlock) && BigInt(fromBlock) > rule.floor) return undefined
  }
  return pinBlock(call.method, call.params, rule.floor)
}

/** An `eth_getLogs` filter whose range ends at the head (`toBlock` omitted or `latest`), not by hash. */
function logsPinnable(params: readonly unknown[]): boolean {
  const filter = params[0]
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) return false
  const { blockHash, toBlock } = filter as { blockHash?: unknown; toBlock?: unknown }
  return blockHash === undefined && (toBlock === undefined || toBlock === 'latest')
}
