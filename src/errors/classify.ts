import { isResilientRpcError } from './guard.js'
import { isMissingBlockMessage, isMissingDataMessage, isResultLimitMessage, isRateLimitMessage, isRevertMessage, isTransientMessage, retryAfterHint } from './providerMessages.js'
import type { RpcResponseError } from './endpoint.js'
import type { TimeoutError } from './request.js'

/**
 * What an error says about the endpoint that produced it:
 * - `failure`: the endpoint misbehaved (timeout, network, 5xx, garbage); counts against its health and breaker.
 * - `neutral`: says nothing about the endpoint (caller abort, revert, bad params, a node lacking old state);
 *   never reaches the breaker, neither as failure nor as success.
 * - `unauthorized`: the endpoint refuses our credentials (HTTP 401/403); take it out of rotation.
 * - `rate-limited`: the endpoint is alive but throttling (429); cool it down, don't trip its breaker.
 */
export type EndpointVerdict = 'failure' | 'neutral' | 'unauthorized' | 'rate-limited'

export type ErrorClass = {
  /** Worth another attempt (on another endpoint when one is available). */
  retryable: boolean
  verdict: EndpointVerdict
}

export type ClassifyContext = {
  /** JSON-RPC method, for method-specific safety (a non-idempotent write is never re-sent). */
  method?: string
}

// Methods whose effect a retry could repeat. `eth_sendRawTransaction` is not here: the same signed
// bytes can only be mined once, so re-sending them is safe.
const UNSAFE_TO_RETRY = new Set(['eth_sendTransaction', 'personal_sendTransaction', 'eth_signTransaction'])

// JSON-RPC codes that are the caller's fault or deterministic node answers: never retried.
const FATAL_RPC_CODES = new Set([
  -32700, // parse error
  -32600, // invalid request
  -32601, // method not found
  -32602, // invalid params
  3, // execution reverted (geth)
  4001, // user rejected (EIP-1193)
  4100, // unauthorized (EIP-1193)
  4200, // unsupported method (EIP-1193)
])

const RATE_LIMIT_RPC_CODES = new Set([429, -32005, -32029])

/**
 * The single place that decides whether an error is worth retrying and what it says about the endpoint.
 * Call sites never re-derive this.
 */
export function classifyError(error: unknown, context: ClassifyContext = {}): ErrorClass {
  const base = classifyBase(error)
  if (!base.retryable || context.method === undefined || !UNSAFE_TO_RETRY.has(context.method)) return base
  // A non-idempotent write is retried only when the request certainly never reached a node.
  const neverSent = isResilientRpcError(error) && ['CIRCUIT_OPEN', 'NO_ENDPOINT', 'UNAUTHORIZED', 'RATE_LIMITED'].includes(error.code)
  return neverSent ? base : { ...base, retryable: false }
}

function classifyBase(error: unknown): ErrorClass {
  if (!isResilientRpcError(error)) return { retryable: false, verdict: 'neutral' }
  switch (error.code) {
    case 'TIMEOUT':
      // An attempt that ran out of time is the endpoint's fault; the whole request's deadline ends the request.
      return { retryable: (error as TimeoutError).scope === 'attempt', verdict: 'failure' }
    case 'NETWORK':
    case 'INVALID_RESPONSE':
    case 'HTTP_ERROR':
      return { retryable: true, verdict: 'failure' }
    case 'UNAUTHORIZED':
      return { retryable: true, verdict: 'unauthorized' }
    case 'RATE_LIMITED':
      return { retryable: true, verdict: 'rate-limited' }
    case 'RPC_ERROR':
      return classifyRpcError(error as RpcResponseError)
    case 'CIRCUIT_OPEN':
    case 'NO_ENDPOINT':
    case 'RETRIES_EXHAUSTED':
    case 'LAGGING':
    case 'NOT_READY':
      return { retryable: true, verdict: 'neutral' }
    case 'CHAIN_MISMATCH':
      return { retryable: true, verdict: 'failure' }
    case 'ABORTED':
    case 'POOL_DESTROYED':
    case 'INVALID_OPTION':
    case 'INVALID_ABI':
    case 'NO_CODE':
    case 'CALL_REVERTED':
    case 'CONFIRMATION_TIMEOUT':
    case 'TX_REJECTED':
    case 'HANDLER_FAILED':
    // The pool's own limits: another attempt would only add the load they exist to prevent.
    case 'RETRY_BUDGET_EXHAUSTED':
    case 'QUEUE_FULL':
    case 'QUORUM_FAILED':
    // Every endpoint that could be asked said it lacks the block: asked again now, they would say the same.
    case 'BLOCK_UNAVAILABLE':
      return { retryable: false, verdict: 'neutral' }
  }
}

function classifyRpcError({ rpcCode, rpcMessage }: { rpcCode: number; rpcMessage: string }): ErrorClass {
  // Order matters: a revert reported with a generic server code (-32603, -32000) is still a revert.
  if (isRevertMessage(rpcMessage)) return { retryable: false, verdict: 'neutral' }
  // A node without the block asked about is behind, not refusing the request: another endpoint may
  // have it. Before the invalid-params code (geth refuses a log range past its head with -32602) and
  // the range words ("block range extends beyond current head block").
  if (isMissingBlockMessage(rpcMessage)) return { retryable: true, verdict: 'neutral' }
  // Log queries too big for the node (Infura sends these with -32005, the rate-limit code): asking
  // again elsewhere returns the same refusal; the caller must ask for less.
  if (isResultLimitMessage(rpcMessage)) return { retryable: false, verdict: 'neutral' }
  if (RATE_LIMIT_RPC_CODES.has(rpcCode) || isRateLimitMessage(rpcMessage)) return { retryable: true, verdict: 'rate-limited' }
  if (FATAL_RPC_CODES.has(rpcCode)) return { retryable: false, verdict: 'neutral' }
  if (isMissingDataMessage(rpcMessage)) return { retryable: true, verdict: 'neutral' }
  if (rpcCode === -32603 || isTransientMessage(rpcMessage)) return { retryable: true, verdict: 'failure' }
  // Anything else (nonce too low, insufficient funds, already known, …) is a deterministic answer.
  return { retryable: false, verdict: 'neutral' }
}

/**
 * How long the endpoint asked to be left alone (ms), if it said: a 429's `Retry-After` header or the
 * back-off field in its body, or the back-off field in the `data` of a JSON-RPC error (Infura's
 * `backoff_seconds`). `undefined` when it did not say.
 */
export function retryAfterOf(error: unknown): number | undefined {
  if (isResilientRpcError(error, 'RATE_LIMITED')) return error.retryAfter
  if (isResilientRpcError(error, 'RPC_ERROR')) return retryAfterHint(error.data)
  return undefined
}

/**
 * Whether an attempt's error says its endpoint does not have the block the request names: its `null`
 * for a block it has not reached (`LAGGING`), or a node's "header not found", "block not found",
 * "block range extends beyond current head block"… Read for requests pinned to a block number: the
 * pool asks another endpoint, and not this one again.
 */
export function lacksBlock(error: unknown): boolean {
  if (isResilientRpcError(error, 'LAGGING')) return true
  return isResilientRpcError(error, 'RPC_ERROR') && isMissingBlockMessage(error.rpcMessage)
}
