import { InvalidResponseError } from '../errors/endpoint.js'
import { isRangeRefusal } from '../errors/providerMessages.js'
import { toQuantity } from '../util/hex.js'
import { parseLogs } from './parseLogs.js'
import type { WatchState } from './state.js'

/**
 * Blocks older than the reorg window, `from`…`to`: one `eth_getLogs` by number, its events handed
 * over in order, then the checkpoint at `to`. A range the endpoints refuse (or that answers more than
 * `maxBufferedLogs` logs) shrinks the range size instead, and the next step asks for less.
 * @throws what the pool throws (a range refusal of a single block included); `INVALID_RESPONSE`
 */
export async function fetchRange(state: WatchState, from: bigint, to: bigint): Promise<void> {
  const { pool, signal, range } = state
  let answer: unknown
  try {
    answer = await pool.request('eth_getLogs', [{ ...state.filter, fromBlock: toQuantity(from), toBlock: toQuantity(to) }], { signal })
  } catch (error) {
    if (!signal.aborted && isRangeRefusal(error) && to > from && range.shrink()) return
    throw error
  }
  const logs = parseLogs(answer, (log) => {
    const n = BigInt(log.blockNumber)
    return n >= from && n <= to
  })
  if (logs.length > state.maxBufferedLogs && to > from && range.shrink()) return
  range.succeeded(Number(to - from + 1n))
  // One block, one hash: an answer mixing two branches is no answer.
  const hashes = new Map<string, string>()
  for (const log of logs) {
    const known = hashes.get(log.blockNumber)
    if (known !== undefined && known.toLowerCase() !== log.blockHash.toLowerCase()) throw new InvalidResponseError(`eth_getLogs mixed two hashes for block ${BigInt(log.blockNumber)}`)
    hashes.set(log.blockNumber, log.blockHash)
  }
  for (const log of logs) if (!(await state.deliver(state.decoder.decode(log, false)))) return
  await state.progress.checkpoint(to)
}
