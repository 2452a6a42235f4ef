import { ResilientRpcError, type ErrorCode, type ResilientRpcErrorOptions } from './base.js'
import { printable } from '../util/show.js'
import { givenCause, networkCause, type NetworkCause, type NetworkReason } from './networkCause.js'

export type { NetworkReason } from './networkCause.js'

export type NetworkErrorOptions = ResilientRpcErrorOptions & {
  /** What happened, when the cause cannot say (a WebSocket closed by its peer); else read from the cause's code. */
  reason?: NetworkReason
}

/**
 * The connection failed below HTTP (refused, reset, DNS, TLS, socket closed) before an answer
 * arrived. The short message names the cause ("Network error: connection refused (ECONNREFUSED)"),
 * the details what it usually means; `reason` and `causeCode` say it for programs.
 */
export class NetworkError extends ResilientRpcError {
  override name = 'NetworkError'
  /** What went wrong, stable for programs to switch on (`connection-refused`, `host-not-found`, `tls-certificate`, …; `other`). */
  readonly reason: NetworkReason
  /** The platform's error code found in the cause chain (`ECONNREFUSED`, `ENOTFOUND`, `DEPTH_ZERO_SELF_SIGNED_CERT`, `UND_ERR_SOCKET`…), if any. */
  readonly causeCode: string | undefined
  constructor(options: NetworkErrorOptions = {}) {
    const { reason, ...rest } = options
    const cause = reason === undefined ? networkCause(rest.cause) : givenCause(reason)
    super('NETWORK', networkMessage(cause), { ...rest, details: networkDetails(rest.details, cause) })
    this.reason = cause.reason
    this.causeCode = cause.code
  }
}

function networkMessage({ words, code }: NetworkCause): string {
  if (words !== undefined) return `Network error: ${words}${code === undefined ? '' : ` (${code})`}`
  return code === undefined ? 'Network error' : `Network error (${code})`
}

// "websocket closed; connect ECONNREFUSED: nothing listens at that host and port (…)"
function networkDetails(context: string | undefined, { code, syscall, hint }: NetworkCause): string | undefined {
  const cause = code === undefined ? hint : `${syscall === undefined ? '' : `${syscall} `}${code}${hint === undefined ? '' : `: ${hint}`}`
  return [context, cause].filter((part) => part !== undefined && part !== '').join('; ') || undefined
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

/** A JSON-RPC error object as a node sends it. */
export type JsonRpcErrorObject = { code: number; message: string; data?: unknown }

/** Is `value` a well-formed JSON-RPC error object? */
export function isJsonRpcErrorObject(value: unknown): value is JsonRpcErrorObject {
  if (typeof value !== 'object' || value === null) return false
  const { code, message } = value as Record<string, unknown>
  return typeof code === 'number' && Number.isInteger(code) && typeof message === 'string'
}

/** The node answered with a JSON-RPC error object. Keeps its `code`, `message` and `data`. */
export class RpcResponseError extends ResilientRpcError {
  override name = 'RpcResponseError'
  /** The JSON-RPC error code, e.g. 3 or -32000 for a revert, -32602 for invalid params. */
  readonly rpcCode: number
  /** The node's message as it sent it (the short message escapes its control characters). */
  readonly rpcMessage: string
  readonly data: unknown
  constructor(error: { code: number; message: string; data?: unknown }, options: ResilientRpcErrorOptions = {}) {
    // The node's text may hold raw bytes (anvil quotes custom error data as text): escaped in the message, kept in `rpcMessage`.
    super('RPC_ERROR', `RPC error ${error.code}: ${printable(error.message)}`, options)
    this.rpcCode = error.code
    this.rpcMessage = error.message
    this.data = error.data
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
