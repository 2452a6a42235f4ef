import { InvalidResponseError } from '../errors/endpoint.js'
import { toLog, type RpcLog } from '../subscriptions/logs.js'
import { showJson } from '../util/show.js'

/**
 * An `eth_getLogs` answer checked and put in chain order: every log must pass `belongs` (the block
 * or range asked) and not be `removed`; sorted by (block, logIndex), a log repeated by the node kept once.
 * @throws `INVALID_RESPONSE` for anything else than an array of such logs
 */
export function parseLogs(answer: unknown, belongs: (log: RpcLog) => boolean): RpcLog[] {
  if (!Array.isArray(answer)) throw new InvalidResponseError(`eth_getLogs returned ${showJson(answer).slice(0, 40)}, expected an array`)
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
