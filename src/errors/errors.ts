/**
 * The one error taxonomy of resilient-rpc. Every error the library throws or emits is a
 * `ResilientRpcError` with a stable string `code`; whether it is worth retrying is decided in one
 * place, `classifyError` (src/errors/classify.ts), never at the call sites.
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

// A registered symbol, not a module-local one: two copies of this package in one bundle must
// still recognise each other's errors.
const BRAND = Symbol.for('resilient-rpc.error')

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

/**
 * Type guard for resilient-rpc errors, optionally of one `code`. Checks a brand rather than
 * `instanceof` alone, so it works across duplicate installs of the package.
 * @example if (isResilientRpcError(err, 'TIMEOUT')) retryLater()
 */
export function isResilientRpcError(error: unknown): error is ResilientRpcError
export function isResilientRpcError<C extends ErrorCode>(error: unknown, code: C): error is ErrorByCode[C]
export function isResilientRpcError(error: unknown, code?: ErrorCode): boolean {
  if (typeof error !== 'object' || error === null || (error as Record<symbol, unknown>)[BRAND] !== true) return false
  return code === undefined || (error as ResilientRpcError).code === code
}

/** A deadline passed: the whole request's (`scope: 'request'`) or one attempt's (`scope: 'attempt'`). */
export class TimeoutError extends ResilientRpcError {
  override name = 'TimeoutError'
  readonly scope: 'request' | 'attempt'
  /** The timeout that passed (ms). */
  readonly timeout: number
  constructor(scope: 'request' | 'attempt', timeout: number, options: ResilientRpcErrorOptions = {}) {
    super('TIMEOUT', scope === 'request' ? `Request timed out after ${timeout} ms` : `Attempt timed out after ${timeout} ms`, options)
    this.scope = scope
    this.timeout = timeout
  }
}

/** The caller's `AbortSignal` fired. `cause` is the signal's `reason`. */
export class AbortedError extends ResilientRpcError {
  override name = 'AbortedError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('ABORTED', 'Request was aborted by the caller', options)
  }
}

/** The endpoint's circuit breaker is open, so it was not tried. */
export class CircuitOpenError extends ResilientRpcError {
  override name = 'CircuitOpenError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('CIRCUIT_OPEN', 'Circuit breaker is open', options)
  }
}

/** Why one endpoint could not take a request, as listed by `NoHealthyEndpointError`. */
export type EndpointExclusion = { endpoint: string; reason: string }

/** No endpoint could take the request before its deadline. Lists why each endpoint is out. */
export class NoHealthyEndpointError extends ResilientRpcError {
  override name = 'NoHealthyEndpointError'
  readonly excluded: readonly EndpointExclusion[]
  constructor(excluded: readonly EndpointExclusion[], options: ResilientRpcErrorOptions = {}) {
    super('NO_ENDPOINT', 'No endpoint available', {
      ...options,
      details: excluded.map((e) => `${e.endpoint}: ${e.reason}`).join('; ') || options.details,
    })
    this.excluded = excluded
  }
}

/** The pool was destroyed before or while the request ran. */
export class PoolDestroyedError extends ResilientRpcError {
  override name = 'PoolDestroyedError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('POOL_DESTROYED', 'Pool was destroyed', options)
  }
}

/** The connection failed (refused, reset, DNS) before an HTTP response arrived. */
export class NetworkError extends ResilientRpcError {
  override name = 'NetworkError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('NETWORK', 'Network error', options)
  }
}

/** The endpoint answered with an HTTP status that is not a JSON-RPC answer. */
export class HttpError extends ResilientRpcError {
  override name = 'HttpError'
  readonly status: number
  constructor(status: number, options: ResilientRpcErrorOptions = {}, code: ErrorCode = 'HTTP_ERROR', message?: string) {
    super(code, message ?? `HTTP ${status}`, options)
    this.status = status
  }
}

/** HTTP 401/403: the endpoint refuses our credentials. It is taken out of rotation, not retried. */
export class UnauthorizedError extends HttpError {
  override name = 'UnauthorizedError'
  constructor(status: number, options: ResilientRpcErrorOptions = {}) {
    super(status, options, 'UNAUTHORIZED', `HTTP ${status}: endpoint refused the credentials`)
  }
}

/** HTTP 429 or a JSON-RPC rate-limit error. The endpoint cools down for `retryAfter` ms. */
export class RateLimitedError extends ResilientRpcError {
  override name = 'RateLimitedError'
  /** How long the endpoint asked us to wait (ms), from `Retry-After`, if it said. */
  readonly retryAfter: number | undefined
  constructor(retryAfter: number | undefined, options: ResilientRpcErrorOptions = {}) {
    super('RATE_LIMITED', retryAfter === undefined ? 'Rate limited' : `Rate limited (retry after ${retryAfter} ms)`, options)
    this.retryAfter = retryAfter
  }
}

/** The body was not a valid JSON-RPC response to our request (not JSON, wrong id, no result/error). */
export class InvalidResponseError extends ResilientRpcError {
  override name = 'InvalidResponseError'
  constructor(reason: string, options: ResilientRpcErrorOptions = {}) {
    super('INVALID_RESPONSE', `Invalid JSON-RPC response: ${reason}`, options)
  }
}

/** The node answered with a JSON-RPC error object. Keeps its `code`, `message` and `data`. */
export class RpcResponseError extends ResilientRpcError {
  override name = 'RpcResponseError'
  /** The JSON-RPC error code, e.g. 3 or -32000 for a revert, -32602 for invalid params. */
  readonly rpcCode: number
  readonly rpcMessage: string
  readonly data: unknown
  constructor(error: { code: number; message: string; data?: unknown }, options: ResilientRpcErrorOptions = {}) {
    super('RPC_ERROR', `RPC error ${error.code}: ${error.message}`, options)
    this.rpcCode = error.code
    this.rpcMessage = error.message
    this.data = error.data
  }
}

/** Every attempt failed with a retryable error and the retry limit was reached. `cause` is the last one. */
export class RetriesExhaustedError extends ResilientRpcError {
  override name = 'RetriesExhaustedError'
  constructor(options: ResilientRpcErrorOptions & { attempts: readonly Attempt[] }) {
    super('RETRIES_EXHAUSTED', `All ${options.attempts.length} attempts failed`, options)
  }
}

/** An option passed to a `createX` factory or a call is invalid. Thrown synchronously at construction. */
export class InvalidOptionError extends ResilientRpcError {
  override name = 'InvalidOptionError'
  /** Path of the offending option, e.g. `endpoints[1].weight`. */
  readonly option: string
  constructor(option: string, problem: string, options: ResilientRpcErrorOptions = {}) {
    super('INVALID_OPTION', `Invalid option \`${option}\`: ${problem}`, options)
    this.option = option
  }
}

/** The endpoint serves another chain than the pool. It is quarantined for the pool's life. */
export class ChainMismatchError extends ResilientRpcError {
  override name = 'ChainMismatchError'
  readonly expected: bigint
  readonly actual: bigint
  constructor(expected: bigint, actual: bigint, options: ResilientRpcErrorOptions = {}) {
    super('CHAIN_MISMATCH', `Chain mismatch: endpoint is on chain ${actual}, the pool on chain ${expected}`, options)
    this.expected = expected
    this.actual = actual
  }
}

/**
 * The endpoint is behind the pool's reference head (or ahead of it, unconfirmed), or answered `null`
 * for data it may simply not have yet. Another endpoint is asked.
 */
export class EndpointLaggingError extends ResilientRpcError {
  override name = 'EndpointLaggingError'
  /** Endpoint head minus the reference head: negative when behind. */
  readonly distance: bigint
  constructor(distance: bigint, reason: string, options: ResilientRpcErrorOptions = {}) {
    super('LAGGING', reason, options)
    this.distance = distance
  }
}

/** `pool.ready()` timed out before enough endpoints were healthy. Lists why each one is not. */
export class NotReadyError extends ResilientRpcError {
  override name = 'NotReadyError'
  readonly excluded: readonly EndpointExclusion[]
  constructor(healthy: number, wanted: number, excluded: readonly EndpointExclusion[], options: ResilientRpcErrorOptions = {}) {
    super('NOT_READY', `Pool not ready: ${healthy} of ${wanted} required endpoints healthy`, {
      ...options,
      details: excluded.map((e) => `${e.endpoint}: ${e.reason}`).join('; ') || options.details,
    })
    this.excluded = excluded
  }
}

/** An ABI given to `createContract` could not be parsed. Thrown at creation, not at the first call. */
export class InvalidAbiError extends ResilientRpcError {
  override name = 'InvalidAbiError'
  constructor(problem: string, options: ResilientRpcErrorOptions = {}) {
    super('INVALID_ABI', `Invalid ABI: ${problem}`, options)
  }
}

/** A decoded revert: a custom error from the ABI, `Error(string)` or `Panic(uint256)`. Never retried. */
export type DecodedRevert = {
  /** `Error` for require/revert strings, `Panic` for compiler checks, else the custom error's name. */
  errorName: string
  /** Full signature, e.g. `Unauthorized(address,uint256)`. */
  signature: string
  /** Decoded arguments, in order. */
  args: readonly unknown[]
  /** The `Error(string)` message, when that is what it is. */
  reason?: string
}

/** A contract call reverted. `revert` is decoded when the ABI (or the built-in errors) know the data. */
export class ContractRevertError extends ResilientRpcError {
  override name = 'ContractRevertError'
  readonly functionName: string
  readonly revert: DecodedRevert | undefined
  /** Raw revert data (hex), if the node returned any. */
  readonly data: string | undefined
  constructor(functionName: string, revert: DecodedRevert | undefined, data: string | undefined, options: ResilientRpcErrorOptions = {}) {
    const what = revert === undefined ? (data && data !== '0x' ? `unknown error data ${data.slice(0, 10)}` : 'without data') : revert.reason !== undefined ? `"${revert.reason}"` : `${revert.errorName}(${revert.args.map(String).join(', ')})`
    super('CALL_REVERTED', `${functionName} reverted: ${what}`, options)
    this.functionName = functionName
    this.revert = revert
    this.data = data
  }
}

/** The state a transaction was last seen in while waiting for its confirmations. */
export type TransactionState =
  | { status: 'pending' }
  | { status: 'mined'; blockNumber: bigint; blockHash: string; confirmations: bigint; reverted: boolean }
  | { status: 'reorged'; blockNumber: bigint; blockHash: string }

/** A transaction did not reach the wanted depth before the deadline. Names the last state seen. */
export class ConfirmationTimeoutError extends ResilientRpcError {
  override name = 'ConfirmationTimeoutError'
  readonly hash: string
  readonly lastState: TransactionState
  constructor(hash: string, wanted: bigint, lastState: TransactionState, options: ResilientRpcErrorOptions = {}) {
    const seen =
      lastState.status === 'pending'
        ? 'still pending'
        : lastState.status === 'reorged'
          ? `reorged out of block ${lastState.blockNumber}`
          : `mined${lastState.reverted ? ' (reverted)' : ''} at depth ${lastState.confirmations} in block ${lastState.blockNumber}`
    super('CONFIRMATION_TIMEOUT', `Transaction ${hash} not ${wanted} deep in time: ${seen}`, options)
    this.hash = hash
    this.lastState = lastState
  }
}

/** Every endpoint refused a transaction (nonce too low, insufficient funds, …). Lists each answer. */
export class TransactionRejectedError extends ResilientRpcError {
  override name = 'TransactionRejectedError'
  readonly hash: string
  readonly rejections: readonly { endpoint: string; error: ResilientRpcError }[]
  constructor(hash: string, rejections: readonly { endpoint: string; error: ResilientRpcError }[], options: ResilientRpcErrorOptions = {}) {
    const first = rejections[0]?.error
    super('TX_REJECTED', `Transaction ${hash} rejected${first ? `: ${first.shortMessage}` : ''}`, {
      ...options,
      details: rejections.map((r) => `${r.endpoint}: ${r.error.shortMessage}`).join('; ') || options.details,
    })
    this.hash = hash
    this.rejections = rejections
  }
}

/** A callback given to the library (an event handler, `onCheckpoint`) threw; `cause` is what it threw. It is retried. */
export class HandlerError extends ResilientRpcError {
  override name = 'HandlerError'
  /** How many times in a row it has failed on this item. */
  readonly failures: number
  constructor(what: string, failures: number, options: ResilientRpcErrorOptions = {}) {
    super('HANDLER_FAILED', `${what} threw (${failures} time${failures === 1 ? '' : 's'} in a row)`, options)
    this.failures = failures
  }
}

/**
 * A retry was due but the pool's retry budget (retries and hedges as a share of first attempts) is
 * spent: the fleet is failing broadly and more attempts would only add load. Never retried; lists the
 * attempts made, `cause` is the last one's error.
 */
export class RetryBudgetExhaustedError extends ResilientRpcError {
  override name = 'RetryBudgetExhaustedError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('RETRY_BUDGET_EXHAUSTED', 'Retry budget exhausted: too many retries across the pool, not retrying', options)
  }
}

/**
 * Every endpoint that could serve the request is at its `maxConcurrency` or `rateLimit`, and
 * `maxQueue` requests are already waiting for one. Fails fast; never retried.
 */
export class QueueFullError extends ResilientRpcError {
  override name = 'QueueFullError'
  /** The `maxQueue` that was reached. */
  readonly maxQueue: number
  readonly excluded: readonly EndpointExclusion[]
  constructor(maxQueue: number, excluded: readonly EndpointExclusion[], options: ResilientRpcErrorOptions = {}) {
    super('QUEUE_FULL', `Queue full: ${maxQueue} requests already wait for an endpoint under its limits`, {
      ...options,
      details: excluded.map((e) => `${e.endpoint}: ${e.reason}`).join('; ') || options.details,
    })
    this.maxQueue = maxQueue
    this.excluded = excluded
  }
}

/** One distinct (normalised) answer of a quorum read and the endpoints (redacted ids) that gave it. */
export type QuorumAnswer = { result: unknown; endpoints: readonly string[] }

/**
 * A quorum read found no `quorum` endpoints agreeing on one answer before it ran out of endpoints
 * (or of time). Lists each distinct answer with who gave it; the endpoints that failed are in
 * `attempts`. Never retried.
 */
export class QuorumError extends ResilientRpcError {
  override name = 'QuorumError'
  readonly quorum: number
  readonly answers: readonly QuorumAnswer[]
  constructor(quorum: number, answers: readonly QuorumAnswer[], options: ResilientRpcErrorOptions = {}) {
    const best = answers.reduce((n, a) => Math.max(n, a.endpoints.length), 0)
    super('QUORUM_FAILED', `Quorum not reached: ${answers.length} distinct answer${answers.length === 1 ? '' : 's'}, at most ${best} of ${quorum} agreeing`, {
      ...options,
      details:
        answers.map((a) => `${a.endpoints.join(', ')}: ${preview(a.result)}`).join('; ') || options.details,
    })
    this.quorum = quorum
    this.answers = answers
  }
}

function preview(result: unknown): string {
  const text = JSON.stringify(result) ?? String(result)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** The class behind each code, so `isResilientRpcError(e, 'TIMEOUT')` narrows to `TimeoutError`. */
export type ErrorByCode = {
  TIMEOUT: TimeoutError
  ABORTED: AbortedError
  CIRCUIT_OPEN: CircuitOpenError
  NO_ENDPOINT: NoHealthyEndpointError
  POOL_DESTROYED: PoolDestroyedError
  NETWORK: NetworkError
  HTTP_ERROR: HttpError
  UNAUTHORIZED: UnauthorizedError
  RATE_LIMITED: RateLimitedError
  INVALID_RESPONSE: InvalidResponseError
  RPC_ERROR: RpcResponseError
  RETRIES_EXHAUSTED: RetriesExhaustedError
  INVALID_OPTION: InvalidOptionError
  CHAIN_MISMATCH: ChainMismatchError
  LAGGING: EndpointLaggingError
  NOT_READY: NotReadyError
  INVALID_ABI: InvalidAbiError
  CALL_REVERTED: ContractRevertError
  CONFIRMATION_TIMEOUT: ConfirmationTimeoutError
  TX_REJECTED: TransactionRejectedError
  HANDLER_FAILED: HandlerError
  RETRY_BUDGET_EXHAUSTED: RetryBudgetExhaustedError
  QUEUE_FULL: QueueFullError
  QUORUM_FAILED: QuorumError
}
