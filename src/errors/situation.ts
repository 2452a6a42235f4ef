import { isResilientRpcError } from './guard.js'
import * as words from './providerMessages.js'
import type { HttpError, RpcResponseError } from './endpoint.js'
import type { TimeoutError } from './request.js'

/**
 * What an endpoint's refusal means, whoever sent it and in whatever words: each provider and node
 * implementation words the same situation its own way (test/fixtures/providerAnswers.ts holds them).
 */
export type Situation =
  /** Too many requests for now: throttled by the provider or a gateway. */
  | 'rate-limit'
  /** The plan's daily or monthly capacity is used up (HTTP 402, "Monthly capacity limit exceeded"). */
  | 'quota-exhausted'
  /** An `eth_getLogs` (or trace) block range wider than the endpoint serves. */
  | 'range-too-large'
  /** A query matching more results, or a response larger, than the endpoint returns. */
  | 'result-too-large'
  /** The request body is larger than the endpoint reads. */
  | 'payload-too-large'
  /** A JSON-RPC batch longer, or answering more, than the endpoint takes. */
  | 'batch-too-large'
  /** The endpoint does not have the block the request names: not yet, as a rule (it is behind). */
  | 'missing-block'
  /** The endpoint lacks other data another may have: pruned state or history, an unfinished index, a sync in progress. */
  | 'missing-data'
  /** The endpoint does not serve this method (disabled, not implemented, not in the plan). */
  | 'method-unsupported'
  /** The call ran and reverted (or ran out of gas): every endpoint says the same. */
  | 'revert'
  /** The request can never succeed as sent: malformed params, a transaction no block can hold. */
  | 'invalid-params'
  /** The node already has these transaction bytes. */
  | 'already-known'
  /** The transaction's nonce is used: by this very transaction (mined) or by another. */
  | 'nonce-too-low'
  /** The transaction pays less than this node's pool takes: another node's may. */
  | 'underpriced'
  /** A replacement pays too little over the transaction it would replace. */
  | 'replacement-underpriced'
  /** The sender cannot pay for the transaction. */
  | 'insufficient-funds'
  /** This node's transaction pool has no room: another node's may. */
  | 'txpool-full'
  /** The endpoint's own trouble (a timeout, an overload, an internal error, a bad gateway): a moment later, or another endpoint, may answer. */
  | 'transient'
  /** The endpoint refuses the credentials (HTTP 401/403). */
  | 'unauthorized'

// Codes that say it without words. -32005 and 429 are read last: providers send range refusals,
// batch refusals and invalid transactions under -32005 too (Infura, Besu, Nethermind).
const METHOD_UNSUPPORTED_CODES = new Set([
  -32601, // method not found (JSON-RPC)
  -32004, // method not supported (EIP-1474; Hardhat)
  -32604, // method not enabled (Besu)
  4200, // unsupported method (EIP-1193)
])
const INVALID_REQUEST_CODES = new Set([-32700, -32600, -32602]) // parse error, invalid request, invalid params
const RATE_LIMIT_CODES = new Set([429, -32005, -32029])

/**
 * The situation an error from an endpoint reports, or `undefined` when it reports none of them (the
 * pool's own errors, an unrecognised JSON-RPC error). The classifier decides from it; so can the later
 * steps that need more than retryable-or-not (a range splitter, a broadcast, a long cool-down).
 */
export function situationOf(error: unknown): Situation | undefined {
  if (!isResilientRpcError(error)) return undefined
  switch (error.code) {
    case 'RPC_ERROR': {
      const { rpcCode, rpcMessage, data } = error as RpcResponseError
      return rpcSituation(rpcCode, words.answerText(rpcMessage, data))
    }
    case 'RATE_LIMITED':
      // A 429's body may say more: that the quota is used up rather than the rate too high.
      return situationOf(error.cause) === 'quota-exhausted' ? 'quota-exhausted' : 'rate-limit'
    case 'UNAUTHORIZED':
      return 'unauthorized'
    case 'HTTP_ERROR': {
      const { status } = error as HttpError
      if (status === 402) return 'quota-exhausted'
      if (status === 413) return 'payload-too-large'
      return status === 408 || status >= 500 ? 'transient' : undefined
    }
    case 'NETWORK':
    case 'INVALID_RESPONSE':
      return 'transient'
    case 'TIMEOUT':
      return (error as TimeoutError).scope === 'attempt' ? 'transient' : undefined
    default:
      return undefined
  }
}

/**
 * A JSON-RPC error's situation from its code and text (its message and the text in its `data`).
 * Order matters where providers' words overlap, and every step says why it comes where it does.
 */
function rpcSituation(code: number, text: string): Situation | undefined {
  // 1. A revert, whatever the code (-32603, -32000, 3): nothing else in the answer matters.
  if (words.isRevertMessage(text) || code === 3) return 'revert'
  // 2. A node behind the block asked about, even under invalid params (-32602, "block range extends
  //    beyond current head block"): before the range words it shares.
  if (words.isMissingBlockMessage(text)) return 'missing-block'
  // 3. Quota, batch, size and range words, before the codes they come under (-32005, -32600, -32602).
  if (words.isQuotaExhaustedMessage(text)) return 'quota-exhausted'
  if (words.isBatchTooLargeMessage(text) || (code === -32003 && /response too large/i.test(text))) return 'batch-too-large'
  if (words.isResultTooLargeMessage(text)) return 'result-too-large'
  if (words.isRangeTooLargeMessage(text)) return 'range-too-large'
  if (words.isPayloadTooLargeMessage(text)) return 'payload-too-large'
  // 4. A rate limit in words, after the sizes: Alchemy's "Log response size exceeded … no limit on the
  //    response size" would read as "exceeded … limit".
  if (words.isRateLimitMessage(text)) return 'rate-limit'
  // 5. What a transaction pool answers, replacement before the plain "underpriced" it contains.
  if (words.isAlreadyKnownMessage(text)) return 'already-known'
  if (words.isReplacementUnderpricedMessage(text)) return 'replacement-underpriced'
  if (words.isNonceTooLowMessage(text)) return 'nonce-too-low'
  if (words.isInsufficientFundsMessage(text)) return 'insufficient-funds'
  if (words.isTxpoolFullMessage(text)) return 'txpool-full'
  if (words.isUnderpricedMessage(text)) return 'underpriced'
  if (words.isUnincludableMessage(text)) return 'invalid-params'
  // 6. Codes that say it alone, then the words left: missing data, the node's trouble.
  if (RATE_LIMIT_CODES.has(code)) return 'rate-limit'
  if (METHOD_UNSUPPORTED_CODES.has(code) || words.isMethodUnsupportedMessage(text)) return 'method-unsupported'
  if (INVALID_REQUEST_CODES.has(code)) return 'invalid-params'
  if (words.isMissingDataMessage(text)) return 'missing-data'
  if (code === -32603 || words.isTransientMessage(text)) return 'transient'
  return undefined
}
