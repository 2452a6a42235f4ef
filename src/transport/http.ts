import {
  HttpError,
  InvalidResponseError,
  NetworkError,
  RateLimitedError,
  RpcResponseError,
  UnauthorizedError,
} from '../errors/errors.js'
import { isJsonRpcErrorObject, unwrapResponse, type JsonRpcRequest } from './jsonrpc.js'
import { parseRetryAfter } from './retryAfter.js'

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
}

/** Creates a JSON-RPC over HTTP transport using `fetch`. Every failure surfaces as a `ResilientRpcError`. */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const { url, endpoint } = options
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const now = options.now ?? Date.now
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...options.headers }
  const errorOptions = { endpoint }
  let nextId = 1

  return {
    async request(method, params, { signal, paramsJson }) {
      const id = nextId++
      const body = paramsJson === undefined ? JSON.stringify({ jsonrpc: '2.0', id, method, params } satisfies JsonRpcRequest) : `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`
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
      // 2. The body decides the rest: a JSON-RPC error wins over a non-2xx status (nodes send reverts with 400/500 too).
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (cause) {
        if (!response.ok) throw new HttpError(response.status, errorOptions)
        throw new InvalidResponseError('body is not JSON', { ...errorOptions, cause, details: `body starts with ${JSON.stringify(text.slice(0, 40))}` })
      }
      if (!response.ok) {
        const error = (parsed as { error?: unknown } | null)?.error
        if (isJsonRpcErrorObject(error)) throw new RpcResponseError(error, { ...errorOptions, details: `HTTP ${response.status}` })
        throw new HttpError(response.status, errorOptions)
      }
      return unwrapResponse(parsed, id, errorOptions)
    },
  }
}

// Only the error code (ECONNREFUSED, ECONNRESET, …): messages of lower layers may quote the full URL.
function networkDetails(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
  const code = cause?.code ?? (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}
