import { isResilientRpcError } from './guard.js'

// What nodes and providers say, in their own words: the one place that reads an error message. The
// classifier (through src/errors/situation.ts), the eth_getLogs range splitter, the filter emulation
// and the transaction sender all ask here; none of them holds a pattern of its own. Each pattern names
// who sends it; test/fixtures/providerAnswers.ts holds their answers, with sources.

// A revert reported with a generic server code (-32603, -32000) is still a revert.
const REVERT = /revert|vm exception|invalid opcode|out of gas|gas required exceeds/i
// Rate limits in words (the status code is not always 429: many send HTTP 200 with a JSON-RPC error):
// Alchemy "exceeded its compute units per second capacity", QuickNode "300/second request limit
// reached", Tenderly "rate limit exceeded", Base's sequencer "over rate limit" (quoted inside a
// -32000 error), Infura "Too Many Requests".
const RATE_LIMIT = /rate.?limit|too many requests|request limit|exceeded .*(quota|capacity|limit)|capacity exceeded|throttl/i
// Cloudflare's rate-limit page, sent as a plain-text body (llamarpc: "error code: 1015", even with status 200).
const RATE_LIMIT_PAGE = /error code: 1015|too many requests|rate.?limit/i
// A plan's capacity used up, not a burst to wait out: Alchemy "Monthly capacity limit exceeded"
// (HTTP 402), Infura "daily request count exceeded, request rate limited".
const QUOTA_EXHAUSTED = /capacity limit exceeded|daily request count exceeded|quota (exceeded|exhausted)|exceeded (the|your) quota|payment required/i
// Words only a quota or rate limit uses: a message with them is never about the size of the request.
const QUOTA = /rate.?limit|too many requests|throttl|quota|credits|capacity|request count/i
// A JSON-RPC batch refused as a whole, or cut off: geth "batch too large" (-32600), jsonrpsee (reth)
// "The batch request was too large" (-32010), "The batch response was too large" (-32011) and
// "Batched requests are not supported by this server" (-32005), Besu "Number of requests exceeds max
// batch size" (-32005), Nethermind "Batch size limit exceeded" (-32005, HTTP 503) and
// "MaxBatchResponseBodySize of N KB exceeded" (-32005). geth's "response too large" is read with its code.
const BATCH_TOO_LARGE = /batch (request |response )?(was )?too large|batch size|batched requests are not supported|maxbatchresponsebodysize/i
// A log query matching too much, or an answer larger than the node sends: Infura "query returned more
// than 10000 results" (-32005) and, on Linea, "query timeout exceeded" (-32005), Alchemy "Log response
// size exceeded", reth "query exceeds max results 20000, retry with the range …", Nethermind "too many
// logs", jsonrpsee (reth) "Response is too big" (-32008).
const RESULT_TOO_LARGE = /more than \d+ results|query returned more than|exceeds max results|too many (results|logs)|response size exceeded|response is too big|query timeout exceeded/i
// A block range wider than the endpoint serves: geth "exceed maximum block range 5000" (-32602; BSC's
// older fork "exceed maximum block range: 5000", -32000), reth "query exceeds max block range 5000",
// Besu "Requested range exceeds maximum RPC range limit" (-32005), Infura "range 1000000 exceeds limit
// of 10000", Alchemy "…up to a 500 block range…" (-32600) and "block range too large (2500)…",
// QuickNode "eth_getLogs is limited to a 10,000 range" (-32614), BlockPI "…limited to 1024 block
// range…", Chainstack "Block range limit exceeded", Ankr "maximum [from, to] blocks distance: 10000",
// dRPC "ranges over 10000 blocks are not supported on freetier" (35), Nodies "Block range too large",
// Tenderly "range 9009594 is bigger than range limit 2000" (in `data`), Cloudflare "range of blocks too large".
const RANGE_TOO_LARGE =
  /block range|range (is )?too (large|wide|big|high)|range of blocks|limited to (a )?[\d,]+|max(imum)? (block )?range|blocks distance|ranges over \d+ blocks|range \d+ (exceeds|is bigger)|range limit|exceeds? (the )?(max(imum)?|limit).*(range|blocks)/i
// Looser words the range splitter also takes as "ask for fewer blocks" for an eth_getLogs, where the
// classifier (judging every method) would misread them: "exceeded … size", "payload too large".
const LOOSE_RANGE = /too many blocks|response size|exceed(s|ed)? .*(range|results|limit|size|blocks|logs)|payload too large/i
// -32005 alone is also Infura's rate limit: with these codes only a message about limits makes it a range refusal.
const RANGE_CODES = new Set([-32005, -32614])
const RANGE_CODE_WORDS = /limit|exceed|too many|range/i
// A request body larger than the node reads: jsonrpsee (reth) "Request is too big" (-32007, HTTP 413),
// geth "content length too large (5242881>5242880)" (a text body, HTTP 413).
const PAYLOAD_TOO_LARGE = /request is too big|content length too large|request entity too large|payload too large/i
// The endpoint lacks data another one may have: pruned state or history (geth, reth, Besu "pruned
// history unavailable", 4444), an index still being built (geth "transaction indexing is in
// progress"), a node still syncing (Besu "Initial sync is still in progress", -32008).
const MISSING_DATA =
  /missing trie node|pruned|unknown block|state (is )?not available|historical state|state histor|not yet indexed|indexing is in progress|sync is still in progress|distance to target block|no state available/i
// The endpoint does not have the block a request names, in each client's words: geth "header not
// found" (-32000; "header for hash not found", "unknown block" by hash), eth_getLogs past its head
// "block range extends beyond current head block" (-32602: geth, Erigon, Nethermind, Besu, reth, which
// adds ": requested N, head M"), eth_feeHistory "request beyond head block"; reth "block not found: 0x…"
// (-32001); Besu "Block not found", "Unknown block" (-39001); Nethermind "<block> could not be found"
// (-32001); anvil "BlockOutOfRangeError: block height is N but requested was M" (-32602); others
// "block N is beyond the latest block M of this node", "cannot query with height in the future". Not
// reth's "unknown block or tx index" (missing data all the same): it also means an index past the end
// of a block it has.
const MISSING_BLOCK =
  /header (for hash )?not found|block not found|unknown block(?! or tx)|could not be found|beyond (the )?(current )?head|beyond the latest block|block ?out ?of ?range|block height is \d+ but requested|height in the future/i
// A method the endpoint does not serve: geth "the method X does not exist/is not available" (-32601),
// Besu "Method not enabled" (-32604), Hardhat "Method X is not supported" (-32004).
const METHOD_UNSUPPORTED = /method .*(does not exist|not found|not supported|not enabled|not available)|not implemented|unsupported method/i
// The node's trouble, not the request's: another endpoint (or a moment later) may answer. jsonrpsee
// "Server is busy, try again later" (-32009), geth "request timed out" (-32002), Besu "Timeout
// expired" (-32603, HTTP 408), dRPC "Request timeout on the free tier…" (30).
const TRANSIENT = /timeout|timed out|busy|overload|temporarily|unavailable|bad gateway|upstream|try again|internal error|connection/i
// The node already has these transaction bytes: for the sender that is success. geth, reth "already
// known", Erigon "ALREADY_EXISTS: already known", Nethermind "AlreadyKnown" (-32010), Besu "Known
// transaction", anvil "transaction already imported" (-32003).
const ALREADY_KNOWN = /already ?known|known transaction|already imported|already exists|transaction already in/i
// The sender's nonce is used: by this very transaction (landed earlier) or by another. geth, reth
// "nonce too low: next nonce 5, tx nonce 3", Besu "Nonce too low" (-32001), Erigon "INTERNAL_ERROR:
// nonce too low", Hardhat "Nonce too low. Expected nonce to be…", Nethermind (older) "OldNonce".
const NONCE_TOO_LOW = /nonce too low|nonce has already been used|oldnonce|invalid nonce/i
// A replacement paying too little over the transaction it replaces: geth, Besu, Erigon "replacement
// transaction underpriced", Nethermind "ReplacementNotAllowed".
const REPLACEMENT_UNDERPRICED = /replacement transaction underpriced|replacementnotallowed/i
// Less than this node's pool takes (another node's may take it): geth "transaction underpriced",
// Erigon "FEE_TOO_LOW: underpriced", Nethermind "FeeTooLow", Besu "Gas price below configured minimum gas price" (-32009).
const UNDERPRICED = /underpriced|fee.?too.?low|below configured minimum gas price/i
// The sender cannot pay: geth, reth, anvil "insufficient funds for gas * price + value…", Hardhat and
// Ganache "sender doesn't have enough funds to send tx…", Besu "Upfront cost exceeds account balance" (-32004).
const INSUFFICIENT_FUNDS = /insufficient funds|doesn't have enough funds|upfront cost exceeds/i
// No room in this node's pool: geth "txpool is full" (-32000), reth "txpool is full" (-32003).
const TXPOOL_FULL = /txpool is full|pool is full/i
// A transaction no block can hold: geth, reth "exceeds block gas limit", Besu "Transaction gas limit
// exceeds block gas limit" (under -32005, the rate-limit code).
const UNINCLUDABLE = /exceeds block gas limit|intrinsic gas too low/i

/** A node's message that a call reverted (or ran out of gas): deterministic, never retried. */
export function isRevertMessage(message: string): boolean {
  return REVERT.test(message)
}

/** A message about a rate limit. */
export function isRateLimitMessage(message: string): boolean {
  return RATE_LIMIT.test(message)
}

/** A plain-text (non-JSON) body that is a rate-limit page. */
export function isRateLimitPage(text: string): boolean {
  return RATE_LIMIT_PAGE.test(text)
}

/** A message that the plan's daily or monthly capacity is used up. */
export function isQuotaExhaustedMessage(message: string): boolean {
  return QUOTA_EXHAUSTED.test(message)
}

/** A message refusing a JSON-RPC batch as a whole (too many calls, too large an answer, no batches at all). */
export function isBatchTooLargeMessage(message: string): boolean {
  return BATCH_TOO_LARGE.test(message)
}

/** A message that a query matches too much or an answer is too large (the classifier's reading, any method). */
export function isResultTooLargeMessage(message: string): boolean {
  return !QUOTA.test(message) && RESULT_TOO_LARGE.test(message)
}

/** A message that a block range is wider than the endpoint serves (the classifier's reading, any method). */
export function isRangeTooLargeMessage(message: string): boolean {
  return !QUOTA.test(message) && !MISSING_BLOCK.test(message) && RANGE_TOO_LARGE.test(message)
}

/** A message that the request body is larger than the endpoint reads. */
export function isPayloadTooLargeMessage(message: string): boolean {
  return PAYLOAD_TOO_LARGE.test(message)
}

/**
 * An eth_getLogs answer that means "ask for fewer blocks" (the range splitter's reading): any wording
 * about the range or result size without quota words, and a bare "limit exceeded" under a code
 * providers use for both (for a log query, asking for less is the safe reading).
 */
export function isRangeMessage(message: string, code: number): boolean {
  // "block range extends beyond current head block" is about the endpoint, not the range's size.
  if (QUOTA.test(message) || MISSING_BLOCK.test(message)) return false
  return RESULT_TOO_LARGE.test(message) || RANGE_TOO_LARGE.test(message) || LOOSE_RANGE.test(message) || (RANGE_CODES.has(code) && RANGE_CODE_WORDS.test(message))
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

/** A message that the endpoint does not serve the method. */
export function isMethodUnsupportedMessage(message: string): boolean {
  return METHOD_UNSUPPORTED.test(message)
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

/** A node's "this replacement does not pay enough more than the transaction it replaces". */
export function isReplacementUnderpricedMessage(message: string): boolean {
  return REPLACEMENT_UNDERPRICED.test(message)
}

/** A node's "this transaction pays less than my pool takes" (not a replacement: see above). */
export function isUnderpricedMessage(message: string): boolean {
  return UNDERPRICED.test(message)
}

/** A node's "the sender cannot pay for this transaction". */
export function isInsufficientFundsMessage(message: string): boolean {
  return INSUFFICIENT_FUNDS.test(message)
}

/** A node's "my transaction pool is full". */
export function isTxpoolFullMessage(message: string): boolean {
  return TXPOOL_FULL.test(message)
}

/** A node's "no block can hold this transaction". */
export function isUnincludableMessage(message: string): boolean {
  return UNINCLUDABLE.test(message)
}

/** A message with quota words: whatever else it says, asking for less would not help. */
export function isQuotaMessage(message: string): boolean {
  return QUOTA.test(message)
}

/**
 * An error's message and the text in its `data`, as one string to read: some providers put the reason
 * in `data` under a message that says nothing (Tenderly: "invalid params", the range limit in
 * `data.payload`; jsonrpsee: "Response is too big", the limit in `data`).
 */
export function answerText(message: string, data: unknown): string {
  const parts = [message]
  const collect = (value: unknown, depth: number) => {
    if (typeof value === 'string') parts.push(value)
    else if (depth < 2 && typeof value === 'object' && value !== null) for (const v of Object.values(value)) collect(v, depth + 1)
  }
  collect(data, 0)
  return parts.join(' ')
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
    if (isResilientRpcError(e, 'RPC_ERROR') && isRangeMessage(answerText(e.rpcMessage, e.data), e.rpcCode)) return true
    if (isResilientRpcError(e, 'HTTP_ERROR') && e.status === 413) return true
    if (isResilientRpcError(e)) {
      if (e.attempts.some((a) => a.error !== e && visit(a.error))) return true
      return visit(e.cause)
    }
    return false
  }
  return visit(error)
}
