/**
 * The one error taxonomy of resilient-rpc. Every error the library throws or emits is a
 * `ResilientRpcError` with a stable string `code`; whether it is worth retrying is decided in one
 * place, `classifyError`, never at the call sites.
 */
import { BRAND, type EndpointExclusion, type ErrorCode } from './code.js'
import { errorToJson, type ErrorJson } from './json.js'

export { BRAND, type EndpointExclusion, type ErrorCode } from './code.js'
export type { AttemptJson, CauseJson, ErrorJson } from './json.js'


/** One try of a request against one endpoint, as listed by errors that end a request. */
export type Attempt = {
  /** Redacted endpoint id (its `name`, else `scheme://host:port#index`). */
  endpoint: string
  /** What ended the attempt. */
  error: ResilientRpcError
  /** How long the attempt took (ms). */
  duration: number
}

export type ResilientRpcErrorOptions = {
  cause?: unknown
  details?: string
  endpoint?: string
  attempts?: readonly Attempt[]
  /** Endpoints that were out (not tried), with why; listed in the message. */
  excluded?: readonly EndpointExclusion[]
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
  /**
   * Endpoints that could not take the request, with why (down, quarantined, cooling down, open
   * breaker, lagging…). `NO_ENDPOINT`, `NOT_READY` and `QUEUE_FULL` list every endpoint; an error that
   * ends a `pool.request` after failed attempts lists the endpoints it never tried because they were out.
   */
  excluded: readonly EndpointExclusion[]
  readonly [BRAND] = true

  constructor(code: ErrorCode, shortMessage: string, options: ResilientRpcErrorOptions = {}) {
    super(formatMessage(shortMessage, options), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = options.details
    this.endpoint = options.endpoint
    this.attempts = options.attempts ?? []
    this.excluded = options.excluded ?? []
  }

  /**
   * A plain, JSON-safe copy for loggers and `JSON.stringify`: `name`, `code`, `message` (the short
   * one), `details`, `endpoint`, the subclass's own fields, `excluded`, `attempts` (each error as
   * JSON too) and the `cause` chain; bigints as decimal strings. Never throws; cycles (an error listed
   * among its own attempts) and depth are cut. Holds nothing the error does not: no URL, no header.
   */
  toJSON(): ErrorJson {
    return errorToJson(this)
  }
}

function formatMessage(shortMessage: string, { details, endpoint, attempts, excluded }: ResilientRpcErrorOptions): string {
  const lines = [shortMessage]
  if (endpoint) lines.push(`Endpoint: ${endpoint}`)
  if (details) lines.push(`Details: ${details}`)
  if (attempts && attempts.length > 0) {
    lines.push('Attempts:')
    for (const [i, a] of attempts.entries()) {
      lines.push(`  ${i + 1}. ${a.endpoint} (${Math.round(a.duration)} ms): [${a.error.code}] ${a.error.shortMessage}`)
    }
  }
  if (excluded && excluded.length > 0) {
    lines.push('Endpoints not tried:')
    for (const e of excluded) lines.push(`  - ${e.endpoint}: ${e.reason}`)
  }
  return lines.join('\n')
}
