import { HttpError, InvalidResponseError, NetworkError, RateLimitedError, RpcResponseError, UnauthorizedError, isJsonRpcErrorObject } from '../errors/endpoint.js'
import type { ResilientRpcErrorOptions } from '../errors/base.js'
import { isRateLimitPage, retryAfterHint } from '../errors/providerMessages.js'
import { parseRetryAfter } from './retryAfter.js'

/** What an HTTP POST of a JSON-RPC body came back with, once the body is read and parsed. */
export type HttpAnswer = { status: number; ok: boolean; parsed: unknown }

/**
 * Sends one JSON-RPC body over HTTP. One per transport; the way bytes travel (`fetch`, `node:http`)
 * is its business, the errors it throws are the same for all.
 */
export type HttpPoster = {
  /**
   * POSTs `body` and parses the answer. Throws for what no JSON-RPC answer can be: network failures,
   * 401/403, 429 (its body read for what it says: a back-off, a quota), a rate-limit page, a body over
   * the size bound or not JSON. A non-2xx JSON body is returned for the
   * caller to read (nodes send reverts with 400/500 too). An abort rejects with `signal.reason`.
   * With `read`, settles with what it makes of the answer (or its throw) instead: one promise on the
   * request path instead of two.
   */
  post(body: string, signal: AbortSignal): Promise<HttpAnswer>
  post<T>(body: string, signal: AbortSignal, read: (answer: HttpAnswer) => T): Promise<T>
  /** Closes pooled connections. Idempotent. */
  destroy(): void
}

export type HttpPosterOptions = {
  url: string
  /** Every header to send, names in lower case. */
  headers: Record<string, string>
  errorOptions: ResilientRpcErrorOptions
  /** Wall clock for HTTP-date `Retry-After` values (ms since epoch). */
  now: () => number
  /** Largest (decoded) response body read; a larger one fails with `INVALID_RESPONSE`. */
  maxResponseBytes: number
  /** Most connections open to the endpoint at once (`node:http` only; browsers decide themselves). */
  maxSockets: number
  /** How long an idle kept-alive connection stays open (ms, `node:http` only). */
  idleSocketTimeout: number
}

/** Statuses that mean "not this endpoint, not now", decided before the body is read. `undefined` for the others. */
export function statusError(status: number, options: HttpPosterOptions): Error | undefined {
  if (status === 401 || status === 403) return new UnauthorizedError(status, options.errorOptions)
  return undefined
}

/**
 * A 429, rate limited whatever its body says. The body may say more: Infura puts how long to back off
 * in its JSON-RPC error's `data` (`backoff_seconds`), used when no `Retry-After` header says it, and a
 * quota used up is told apart from a rate by the words of that error (kept as the `cause`).
 */
export function rateLimited(retryAfter: string | null | undefined, text: string, options: HttpPosterOptions): RateLimitedError {
  let error: unknown
  try {
    error = (JSON.parse(text) as { error?: unknown } | null)?.error
  } catch {
    // A page, not JSON (Cloudflare's "error code: 1015"): the status says it all.
  }
  const said = isJsonRpcErrorObject(error) ? error : undefined
  const wait = parseRetryAfter(retryAfter, options.now()) ?? retryAfterHint(said?.data)
  return new RateLimitedError(wait, { ...options.errorOptions, ...(said ? { cause: new RpcResponseError(said, options.errorOptions) } : {}) })
}

export function tooLarge(bytes: number | undefined, options: HttpPosterOptions): InvalidResponseError {
  const size = bytes === undefined ? 'more than' : `${bytes} bytes, over`
  return new InvalidResponseError(`body is too large (${size} the ${options.maxResponseBytes}-byte limit)`, options.errorOptions)
}

/**
 * Parses a complete body; a non-JSON body is an `HttpError` for a non-2xx status, a rate limit for a
 * rate-limit page (Cloudflare answers "error code: 1015" with status 200), else `INVALID_RESPONSE`.
 */
export function parseAnswer(status: number, text: string, options: HttpPosterOptions): HttpAnswer {
  const ok = status >= 200 && status < 300
  try {
    return { status, ok, parsed: JSON.parse(text) }
  } catch (cause) {
    if (!ok) throw new HttpError(status, options.errorOptions)
    const details = `body starts with ${JSON.stringify(text.slice(0, 40))}`
    if (isRateLimitPage(text)) throw new RateLimitedError(undefined, { ...options.errorOptions, details })
    throw new InvalidResponseError('body is not JSON', { ...options.errorOptions, cause, details })
  }
}

/** A failure below HTTP, as the typed error; `NetworkError` names it from the platform's code in the cause chain (never its message). */
export function networkError(error: unknown, options: HttpPosterOptions): NetworkError {
  return new NetworkError({ ...options.errorOptions, cause: error })
}
