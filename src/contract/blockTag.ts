import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { Pool } from '../pool/pool.js'
import { showJson } from '../util/show.js'
import { bigInteger, knownKeys, oneOf, optionNames, optionsObject } from '../config/validate.js'
import { HASH, HEX_QUANTITY, toQuantity } from '../util/hex.js'

/** The block tags a node takes where a block number goes. */
export const BLOCK_TAGS = ['latest', 'safe', 'finalized', 'pending', 'earliest'] as const

/** Whether `value` is one of `BLOCK_TAGS`. */
export function isBlockTag(value: unknown): value is (typeof BLOCK_TAGS)[number] {
  return (BLOCK_TAGS as readonly unknown[]).includes(value)
}

/** Which state a read sees. At most one of these may be given. */
export type BlockOptions = {
  /** A block number, a block hash (32 bytes hex), or a tag. @default 'latest' */
  blockTag?: bigint | number | 'latest' | 'safe' | 'finalized' | 'pending' | 'earliest' | `0x${string}`
  /** Read at `head − confirmations` (the head from `pool.freshHead()`): state that `confirmations` blocks have built on. */
  confirmations?: number | bigint
  /** Read the chain's `safe` or `finalized` block (pinned to its number, so every endpoint that has it can serve). */
  finality?: 'safe' | 'finalized'
}

/** Deadline and cancellation of the head (`pool.freshHead()`) or `eth_getBlockByNumber` lookup `resolveBlock` may make. */
export type ResolveBlockCallOptions = {
  /** Cancels the lookup. */
  signal?: AbortSignal
  /** Deadline of the lookup (ms). @default the pool's `defaultTimeout` */
  timeout?: number
}


/**
 * Turns read options into the block parameter of a call: a hex number, a hash, or a tag. Confirmation
 * depth and finality resolve to a block number once, so several reads given the result see one state.
 * @throws `INVALID_OPTION` for conflicting or malformed options, or a finality the chain does not support
 */
export async function resolveBlock(pool: Pool, options: BlockOptions & ResolveBlockCallOptions = {}): Promise<string> {
  optionsObject('options', options)
  knownKeys('', options, RESOLVE_BLOCK_OPTIONS)
  const { blockTag, confirmations, finality, signal, timeout } = options
  const given = [blockTag !== undefined, confirmations !== undefined, finality !== undefined].filter(Boolean).length
  if (given > 1) throw new InvalidOptionError('blockTag', 'give at most one of `blockTag`, `confirmations` and `finality`')
  if (confirmations !== undefined) {
    const depth = bigInteger('confirmations', confirmations, true)
    // Counted from a head confirmed within about a block time, not whatever the pool last heard:
    // right after a deploy and a few blocks, an older head would put the read before the deploy.
    const head = await pool.freshHead({ signal, timeout })
    return toQuantity(head > depth ? head - depth : 0n)
  }
  if (finality !== undefined) {
    oneOf('finality', finality, 'finalized', ['safe', 'finalized'])
    const block = await pool.request<{ number?: string } | null>('eth_getBlockByNumber', [finality, false], { signal, timeout }).catch((error: unknown) => {
      // Only the node's answer says the tag is unsupported; an abort or a deadline stays what it is.
      if (isResilientRpcError(error, 'RPC_ERROR')) throw new InvalidOptionError('finality', `the chain did not answer the '${finality}' block tag`, { cause: error })
      throw error
    })
    if (!block?.number) throw new InvalidOptionError('finality', `the chain has no '${finality}' block yet`)
    return block.number
  }
  if (blockTag === undefined) return 'latest'
  if (typeof blockTag === 'bigint' || typeof blockTag === 'number') return toQuantity(bigInteger('blockTag', blockTag, true))
  if (isBlockTag(blockTag) || HASH.test(blockTag) || HEX_QUANTITY.test(blockTag)) return blockTag
  throw new InvalidOptionError('blockTag', `expected a block number, hash or tag, got ${showJson(blockTag)}`)
}

/** The block parameter of `eth_call` and friends: a hash goes in an EIP-1898 object. */
export function blockParameter(block: string): string | { blockHash: string } {
  return HASH.test(block) ? { blockHash: block } : block
}

const RESOLVE_BLOCK_OPTIONS = optionNames<BlockOptions & ResolveBlockCallOptions>({ blockTag: true, confirmations: true, finality: true, signal: true, timeout: true })
