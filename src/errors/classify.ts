import { isResilientRpcError } from './guard.js'
import { isMissingBlockMessage, retryAfterHint } from './providerMessages.js'
import { situationOf, type Situation } from './situation.js'
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

// Frozen: every caller gets the same object.
const RETRY_FAILURE: ErrorClass = Object.freeze({ retryable: true, verdict: 'failure' })
const RETRY_NEUTRAL: ErrorClass = Object.freeze({ retryable: true, verdict: 'neutral' })
const FATAL_NEUTRAL: ErrorClass = Object.freeze({ retryable: false, verdict: 'neutral' })
const RATE_LIMITED: ErrorClass = Object.freeze({ retryable: true, verdict: 'rate-limited' })

// What each situation an endpoint reports (src/errors/situation.ts) says about the request and the endpoint.
const BY_SITUATION: Record<Situation, ErrorClass> = {
  'rate-limit': RATE_LIMITED,
  // The endpoint is alive but will not serve for now: cooled down, not held against its breaker.
  'quota-exhausted': RATE_LIMITED,
  // Asked again elsewhere, a log query too big gets the same refusal: the caller must ask for less.
  'range-too-large': FATAL_NEUTRAL,
  'result-too-large': FATAL_NEUTRAL,
  // Limits on bodies and batches differ between endpoints, and the request itself is fine.
  'payload-too-large': RETRY_NEUTRAL,
  'batch-too-large': RETRY_NEUTRAL,
  // A node behind, or without state another keeps: another endpoint may have it.
  'missing-block': RETRY_NEUTRAL,
  'missing-data': RETRY_NEUTRAL,
  'method-unsupported': FATAL_NEUTRAL,
  revert: FATAL_NEUTRAL,
  'invalid-params': FATAL_NEUTRAL,
  // A transaction pool's answers: the transaction sender reads them (src/tx/sendRawTransaction.ts).
  'already-known': FATAL_NEUTRAL,
  'nonce-too-low': FATAL_NEUTRAL,
  underpriced: FATAL_NEUTRAL,
  'replacement-underpriced': FATAL_NEUTRAL,
  'insufficient-funds': FATAL_NEUTRAL,
  'txpool-full': FATAL_NEUTRAL,
  transient: RETRY_FAILURE,
  unauthorized: Object.freeze({ retryable: true, verdict: 'unauthorized' }),
}

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
      return RETRY_FAILURE
    case 'HTTP_ERROR': {
      // A body too large, a quota used up: no fault of the endpoint's; any other status is.
      const situation = situationOf(error)
      return situation === 'payload-too-large' || situation === 'quota-exhausted' ? BY_SITUATION[situation] : RETRY_FAILURE
    }
    case 'UNAUTHORIZED':
      return { retryable: true, verdict: 'unauthorized' }
    case 'RATE_LIMITED':
      return { retryable: true, verdict: 'rate-limited' }
    case 'RPC_ERROR': {
      // An answer none of the situations describes (nonce too high, a custom code) is deterministic.
      const situation = situationOf(error)
      return situation === undefined ? FATAL_NEUTRAL : BY_SITUATION[situation]
    }
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
