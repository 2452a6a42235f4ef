/**
 * The one error taxonomy of resilient-rpc. Every error the library throws or emits is a
 * `ResilientRpcError` with a stable string `code`; whether it is worth retrying is decided in one
 * place, `classifyError`, never at the call sites.
 */

/** Stable, machine-readable error codes. New codes may be added; existing ones never change meaning. */
export type ErrorCode =
  | 'TIMEOUT'
  | 'ABORTED'
  | 'CIRCUIT_OPEN'
  | 'NO_ENDPOINT'
  | 'POOL_DESTROYED'
  | 'NETWORK'
  | 'HTTP_ERROR'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'INVALID_RESPONSE'
  | 'RPC_ERROR'
  | 'RETRIES_EXHAUSTED'
  | 'INVALID_OPTION'
  | 'CHAIN_MISMATCH'
  | 'LAGGING'
  | 'NOT_READY'
  | 'INVALID_ABI'
  | 'CALL_REVERTED'
  | 'CONFIRMATION_TIMEOUT'
  | 'TX_REJECTED'
  | 'HANDLER_FAILED'
  | 'RETRY_BUDGET_EXHAUSTED'
  | 'QUEUE_FULL'
  | 'QUORUM_FAILED'


/** One try of a request against one endpoint, as listed by errors that end a request. */
export type Attempt = {
  /** Redacted endpoint id (its `name`, else `scheme://host:port#index`). */
  endpoint: string
  /** What ended the attempt. */
  error: ResilientRpcError
  /** How long the attempt took (ms). */
  duration: number
}

/** Why one endpoint could not take a request, as listed by `NoHealthyEndpointError`. */
export type EndpointExclusion = { endpoint: string; reason: string }

// A registered symbol, not a module-local one: two copies of this package in one bundle must
// still recognise each other's errors.
export const BRAND = Symbol.for('resilient-rpc.error')

export type ResilientRpcErrorOptions = {
  cause?: unknown
  details?: string
  endpoint?: string
  attempts?: readonly Attempt[]
}

/** Base class of every error resilient-rpc throws. */
export class ResilientRpcError extends Error {
  override name = 'ResilientRpcError'
  readonly code: ErrorCode
  /** The message without details, attempts or endpoint, for logs and UIs. */
  readonly shortMessage: string
  /** Extra human-readable context (already redacted). */
  readonly details: string | undefined
  /** Redacted id of the endpoint the error relates to, if any. */
  readonly endpoint: string | undefined
  /** Every attempt the request made, when the error ends a `pool.request`. */
  attempts: readonly Attempt[]
  readonly [BRAND] = true

  constructor(code: ErrorCode, shortMessage: string, options: ResilientRpcErrorOptions = {}) {
    super(formatMessage(shortMessage, options), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = options.details
    this.endpoint = options.endpoint
    this.attempts = options.attempts ?? []
  }
}

function formatMessage(shortMessage: string, { details, endpoint, attempts }: ResilientRpcErrorOptions): string {
  const lines = [shortMessage]
  if (endpoint) lines.push(`Endpoint: ${endpoint}`)
  if (details) lines.push(`Details: ${details}`)
  if (attempts && attempts.length > 0) {
    lines.push('Attempts:')
    for (const [i, a] of attempts.entries()) {
      lines.push(`  ${i + 1}. ${a.endpoint} (${Math.round(a.duration)} ms): [${a.error.code}] ${a.error.shortMessage}`)
    }
  }
  return lines.join('\n')
}
