import { isQuantity } from '../util/hex.js'

/** Reads, from one method's answer, the highest block number it names. */
type Reader = (result: unknown) => bigint | undefined

const numberField =
  (field: 'number' | 'blockNumber'): Reader =>
  (result) => {
    if (typeof result !== 'object' || result === null) return undefined
    const value = (result as Record<string, unknown>)[field]
    return isQuantity(value) ? BigInt(value) : undefined
  }

const block = numberField('number')
const mined = numberField('blockNumber')

const highestLog: Reader = (result) => {
  if (!Array.isArray(result)) return undefined
  let highest: bigint | undefined
  // Logs come in chain order: the last one with a number is the highest (`pending` logs have none).
  for (let i = result.length - 1; i >= 0 && highest === undefined; i--) highest = mined(result[i])
  return highest
}

// Only answers that name a block the endpoint itself holds: a block it served, a receipt or a mined
// transaction it found, a log it returned. `eth_blockNumber` is its head.
const READERS = new Map<string, Reader>(Object.entries({
  eth_blockNumber: (result: unknown) => (isQuantity(result) ? BigInt(result) : undefined),
  eth_getBlockByNumber: block,
  eth_getBlockByHash: block,
  eth_getTransactionReceipt: mined,
  eth_getTransactionByHash: mined,
  eth_getTransactionByBlockHashAndIndex: mined,
  eth_getTransactionByBlockNumberAndIndex: mined,
  eth_getLogs: highestLog,
  eth_getBlockReceipts: (result: unknown) => (Array.isArray(result) && result.length > 0 ? mined(result[0]) : undefined),
}))

/**
 * The highest block `method`'s answer shows the endpoint has (a block it served is a block it has),
 * or `undefined` when the answer names none. Pure; one map lookup for methods that never do.
 */
export function answerBlock(method: string, result: unknown): bigint | undefined {
  if (result === null || result === undefined) return undefined
  const read = READERS.get(method)
  return read === undefined ? undefined : read(result)
}

/** The block an `eth_subscribe` notification of `kind` names (a new head, a log), or `undefined`. */
export function notificationBlock(kind: unknown, result: unknown): bigint | undefined {
  if (result === null || result === undefined) return undefined
  if (kind === 'newHeads') return block(result)
  return kind === 'logs' ? mined(result) : undefined
}
