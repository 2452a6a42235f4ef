import {
  HttpError,
  InvalidResponseError,
  NetworkError,
  RateLimitedError,
  RpcResponseError,
  UnauthorizedError,
} from '../errors/errors.js'
import { encodeRequest, isJsonRpcErrorObject, unwrapResponse } from './jsonrpc.js'
import { parseRetryAfter } from './retryAfter.js'
import { createBatcher, type BatchOptions } from './batch.js'
import { systemClock, type Clock } from '../util/clock.js'

/** Sends one JSON-RPC call to one endpoint. Stateless between calls except for the id counter. */
export type Transport = {
  /** `paramsJson`, when given, is `params` already serialised (the pool serialises once per request). */
  request(method: string, params: readonly unknown[], options: { signal: AbortSignal; paramsJson?: string }): Promise<unknown>
}

export type HttpTransportOptions = {
  /** Endpoint URL without userinfo (credentials go in `headers`). */
  url: string
  /** Extra request headers, e.g. `Authorization`. */
  headers?: Record<string, string>
  /** Redacted endpoint id, put on every error. */
  endpoint: string
  /** `fetch` implementation. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Wall clock for HTTP-date `Retry-After` values (ms since epoch). @default Date.now */
  now?: () => number
  /** Combine requests made within a short window into JSON-RPC batches. Off by default. */
  batch?: Required<BatchOptions> | false
  /** Timers for the batch window. @default the global timers */
  clock?: Clock
}

/** Creates a JSON-RPC over HTTP transport using `fetch`. Every failure surfaces as a `ResilientRpcError`. */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const { url, endpoint } = options
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const now = options.now ?? Date.now
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...options.headers }
  const errorOptions = { endpoint }
  let nextId = 1

  /**
   * POSTs a body and parses the answer. Throws for what no JSON-RPC answer can be: network failures,
   * 401/403, 429, and a body that is not JSON. A non-2xx JSON body is returned for the caller to read
   * (nodes send reverts with 400/500 too).
   */
  const post = async (body: string, signal: AbortSignal): Promise<{ status: number; ok: boolean; parsed: unknown }> => {
    let response: Response
    let text: string
    try {
      response = await doFetch(url, { method: 'POST', headers, body, signal })
      // 1. Statuses that mean "not this endpoint, not now" are decided without trusting the body.
      if (response.status === 401 || response.status === 403) {
        void response.body?.cancel().catch(() => {})
        throw new UnauthorizedError(response.status, errorOptions)
      }
      if (response.status === 429) {
        void response.body?.cancel().catch(() => {})
        throw new RateLimitedError(parseRetryAfter(response.headers.get('retry-after'), now()), errorOptions)
      }
      text = await response.text()
    } catch (error) {
      // The abort reason (attempt timeout, request deadline, caller abort, destroy) is the truth, not
      // the DOMException fetch rejects with; the caller maps it.
      if (signal.aborted) throw signal.reason
      if (error instanceof UnauthorizedError || error instanceof RateLimitedError) throw error
      throw new NetworkError({ ...errorOptions, cause: error, details: networkDetails(error) })
    }
    try {
      return { status: response.status, ok: response.ok, parsed: JSON.parse(text) }
    } catch (cause) {
      if (!response.ok) throw new HttpError(response.status, errorOptions)
      throw new InvalidResponseError('body is not JSON', { ...errorOptions, cause, details: `body starts with ${JSON.stringify(text.slice(0, 40))}` })
    }
  }

  const single = async (method: string, params: readonly unknown[], signal: AbortSignal, paramsJson?: string): Promise<unknown> => {
    const id = nextId++
    const { ok, status, parsed } = await post(encodeRequest(id, method, params, paramsJson), signal)
    if (!ok) {
      const error = (parsed as { error?: unknown } | null)?.error
      if (isJsonRpcErrorObject(error)) throw new RpcResponseError(error, { ...errorOptions, details: `HTTP ${status}` })
      throw new HttpError(status, errorOptions)
    }
    return unwrapResponse(parsed, id, errorOptions)
  }

  if (!options.batch) return { request: (method, params, { signal, paramsJson }) => single(method, params, signal, paramsJson) }
  return createBatcher(options.batch, {
    nextId: () => nextId++,
    post,
    single,
    errorOptions,
    clock: options.clock ?? systemClock,
  })
}

// Only the error code (ECONNREFUSED, ECONNRESET, …): messages of lower layers may quote the full URL.
function networkDetails(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
  const code = cause?.code ?? (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}
