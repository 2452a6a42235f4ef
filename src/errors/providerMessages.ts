import { isResilientRpcError } from './guard.js'

// What nodes and providers say, in their own words: the one place that reads an error message. The
// classifier, the eth_getLogs range splitter, the filter emulation and the transaction sender all
// ask here; none of them holds a pattern of its own.

// A revert reported with a generic server code (-32603, -32000) is still a revert.
const REVERT = /revert|vm exception|invalid opcode|out of gas|gas required exceeds/i
// Rate limits and quotas in words (the status code is not always 429: many send HTTP 200 with a
// JSON-RPC error).
const RATE_LIMIT = /rate.?limit|too many requests|request limit|exceeded .*(quota|capacity|limit)|capacity exceeded|throttl/i
// Cloudflare's rate-limit page, sent as a plain-text body (llamarpc: "error code: 1015", even with status 200).
const RATE_LIMIT_PAGE = /error code: 1015|too many requests|rate.?limit/i
// Words only a quota or rate limit uses: a message with them is never about the size of the request
// ("Daily request count exceeded, request rate limited").
const QUOTA = /rate.?limit|too many requests|throttl|quota|credits/i
// Log queries too big for the node, as the classifier reads them. Infura sends these with -32005,
// its rate-limit code, so they must be recognised before the code is. Narrower than RANGE below on
// purpose: the classifier judges every method, where "exceeded … limit" more often means a quota.
const RESULT_LIMIT = /more than \d+ results|query returned more than|block range|range (is )?too (large|wide)|exceeds? (the )?(max(imum)?|limit).*(range|results|blocks)/i
// What providers answer when an eth_getLogs range is too wide or matches too much. Seen in the wild:
// Infura "query returned more than 10000 results" (-32005), Alchemy "Log response size exceeded",
// QuickNode "eth_getLogs is limited to a 10,000 range", Ankr "block range is too wide", geth-based
// "exceed maximum block range", Cloudflare "range of blocks too large", Nethermind "too many logs".
const RANGE =
  /more than \d+ results|query returned more than|block range|range (is )?too (large|wide|big)|range of blocks|too many (results|logs|blocks)|response size|(limited|limit(ed)?) to (a )?[\d,]+|exceed(s|ed)? .*(range|results|limit|size|blocks|logs)|max(imum)? (block )?range|query timeout exceeded|payload too large/i
// -32005 alone is also Infura's rate limit: with these codes only a message about limits makes it a range refusal.
const RANGE_CODES = new Set([-32005, -32614])
const RANGE_CODE_WORDS = /limit|exceed|too many|range/i
// The endpoint lacks data another one may have (pruned state, a block it has not synced yet).
const MISSING_DATA = /missing trie node|pruned|unknown block|state (is )?not available|historical state|state histor|not yet indexed|distance to target block|no state available/i
// The endpoint does not have the block a request names, in each client's words: geth "header not
// found" (-32000; "header for hash not found", "unknown block" by hash), eth_getLogs past its head
// "block range extends beyond current head block" (-32602: geth, Erigon, Nethermind, Besu, reth, which
// adds ": requested N, head M"), eth_feeHistory "request beyond head block"; reth "block not found: 0x…"
// (-32001); Besu "Block not found"; Nethermind "<block> could not be found" (-32001); anvil
// "BlockOutOfRangeError: block height is N but requested was M" (-32602); others "block N is beyond
// the latest block M of this node", "cannot query with height in the future". Not reth's "unknown
// block or tx index" (missing data all the same): it also means an index past the end of a block it has.
const MISSING_BLOCK =
  /header (for hash )?not found|block not found|unknown block(?! or tx)|could not be found|beyond (the )?(current )?head|beyond the latest block|block ?out ?of ?range|block height is \d+ but requested|height in the future/i
// The node's trouble, not the request's: another endpoint (or a moment later) may answer.
const TRANSIENT = /timeout|timed out|busy|overload|temporarily|unavailable|bad gateway|upstream|try again|internal error|connection/i
// The node already has these transaction bytes: for the sender that is success.
const ALREADY_KNOWN = /already known|known transaction|already imported|already exists|transaction already in/i
// The sender's nonce is used: by this very transaction (landed earlier) or by another.
const NONCE_TOO_LOW = /nonce too low|nonce has already been used|oldnonce|invalid nonce/i

/** A node's message that a call reverted (or ran out of gas): deterministic, never retried. */
export function isRevertMessage(message: string): boolean {
  return REVERT.test(message)
}

/** A message about a rate limit or quota. */
export function isRateLimitMessage(message: string): boolean {
  return RATE_LIMIT.test(message)
}

/** A plain-text (non-JSON) body that is a rate-limit page. */
export function isRateLimitPage(text: string): boolean {
  return RATE_LIMIT_PAGE.test(text)
}

/** A message that a query matched too many results or spans too many blocks, whatever the method (the classifier's reading). */
export function isResultLimitMessage(message: string): boolean {
  return RESULT_LIMIT.test(message)
}

/**
 * An eth_getLogs answer that means "ask for fewer blocks" (the range splitter's reading): any wording
 * about the range or result size without quota words, and a bare "limit exceeded" under a code
 * providers use for both (for a log query, asking for less is the safe reading).
 */
export function isRangeMessage(message: string, code: number): boolean {
  // "block range extends beyond current head block" is about the endpoint, not the range's size.
  if (QUOTA.test(message) || MISSING_BLOCK.test(message)) return false
  return RANGE.test(message) || (RANGE_CODES.has(code) && RANGE_CODE_WORDS.test(message))
}

/** A message that the node lacks state or a block another endpoint may have. */
export function isMissingDataMessage(message: string): boolean {
  return MISSING_DATA.test(message) || MISSING_BLOCK.test(message)
}

/**
 * A message that the node does not have the block the request names (not yet, as a rule: a node
 * behind the others), whatever the JSON-RPC code: some send it as invalid params (-32602).
 */
export function isMissingBlockMessage(message: string): boolean {
  return MISSING_BLOCK.test(message)
}

/** A message about the node's own trouble (overload, timeouts, upstream failures). */
export function isTransientMessage(message: string): boolean {
  return TRANSIENT.test(message)
}

/** A node's "I already have this transaction". */
export function isAlreadyKnownMessage(message: string): boolean {
  return ALREADY_KNOWN.test(message)
}

/** A node's "this nonce is used". */
export function isNonceTooLowMessage(message: string): boolean {
  return NONCE_TOO_LOW.test(message)
}

/** A message with quota words: whatever else it says, asking for less would not help. */
export function isQuotaMessage(message: string): boolean {
  return QUOTA.test(message)
}

/**
 * How long an error's `data` asks the caller to wait before the next request (ms), if it says: Infura's
 * `backoff_seconds` (next to `current_rps` and `allowed_rps`, or under `rate`). `undefined` otherwise.
 */
export function retryAfterHint(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const { backoff_seconds: seconds, rate } = data as { backoff_seconds?: unknown; rate?: unknown }
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000)
  return rate === undefined ? undefined : retryAfterHint(rate)
}

/**
 * Whether an `eth_getLogs` failure means "ask for fewer blocks": a JSON-RPC error about the range or
 * result size (also when it ended up inside `RETRIES_EXHAUSTED`, or listed among the attempts), or
 * HTTP 413. Such a refusal is the same on every endpoint, so retrying the same range is pointless.
 */
export function isRangeRefusal(error: unknown): boolean {
  const seen = new Set<unknown>()
  const visit = (e: unknown): boolean => {
    if (e === undefined || e === null || seen.has(e)) return false
    seen.add(e)
    if (isResilientRpcError(e, 'RPC_ERROR') && isRangeMessage(e.rpcMessage, e.rpcCode)) return true
    if (isResilientRpcError(e, 'HTTP_ERROR') && e.status === 413) return true
    if (isResilientRpcError(e)) {
      if (e.attempts.some((a) => a.error !== e && visit(a.error))) return true
      return visit(e.cause)
    }
    return false
  }
  return visit(error)
}
