import { isResilientRpcError, type ResilientRpcError } from '../errors/errors.js'

// What providers answer when an eth_getLogs range is too wide or matches too much. Seen in the wild:
// Infura "query returned more than 10000 results" (-32005), Alchemy "Log response size exceeded",
// QuickNode "eth_getLogs is limited to a 10,000 range", Ankr "block range is too wide", geth-based
// "exceed maximum block range", Cloudflare "range of blocks too large", Nethermind "too many logs".
const RANGE_MESSAGE =
  /more than \d+ results|query returned more than|block range|range (is )?too (large|wide|big)|range of blocks|too many (results|logs|blocks)|response size|(limited|limit(ed)?) to (a )?[\d,]+|exceed(s|ed)? .*(range|results|limit|size|blocks|logs)|max(imum)? (block )?range|query timeout exceeded|payload too large/i
const RANGE_CODES = new Set([-32005, -32614])
// "Daily request count exceeded, request rate limited" is about us, not the range.
const RATE = /rate.?limit|too many requests|quota|credits/i

/**
 * Whether an `eth_getLogs` failure means "ask for fewer blocks": a JSON-RPC error about the range or
 * result size (also when it ended up inside `RETRIES_EXHAUSTED`, or listed among the attempts), or
 * HTTP 413. Such a refusal is the same on every endpoint, so retrying the same range is pointless.
 */
export function isRangeLimitError(error: unknown): boolean {
  const seen = new Set<unknown>()
  const visit = (e: unknown): boolean => {
    if (e === undefined || e === null || seen.has(e)) return false
    seen.add(e)
    if (isResilientRpcError(e, 'RPC_ERROR') && !RATE.test(e.rpcMessage)) {
      if (RANGE_MESSAGE.test(e.rpcMessage)) return true
      // -32005 alone is also Infura's rate limit: only with a message about limits is it a range refusal.
      if (RANGE_CODES.has(e.rpcCode) && /limit|exceed|too many|range/i.test(e.rpcMessage)) return true
    }
    if (isResilientRpcError(e, 'HTTP_ERROR') && e.status === 413) return true
    if (isResilientRpcError(e)) {
      if ((e as ResilientRpcError).attempts.some((a) => a.error !== e && visit(a.error))) return true
      return visit(e.cause)
    }
    return false
  }
  return visit(error)
}
