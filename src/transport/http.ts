import { HttpError, RpcResponseError, isJsonRpcErrorObject } from '../errors/endpoint.js'
import { createDefaultPoster } from '../platform/node.js'
import { encodeRequest, unwrapResponse } from './jsonrpc.js'
import { createBatcher } from './batch.js'
import type { Transport } from './transport.js'
import type { BatchOptions } from '../config/policyOptions.js'
import { createFetchPoster } from '../platform/fetchPoster.js'
import { DEFAULT_IDLE_SOCKET_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_SOCKETS } from '../config/defaults.js'
import type { HttpAnswer, HttpPosterOptions } from '../platform/httpPoster.js'
import { systemClock, type Clock } from '../util/clock.js'
import { integer } from '../config/validate.js'

export type HttpTransportOptions = {
  /** Endpoint URL without userinfo (credentials go in `headers`). */
  url: string
  /** Extra request headers, e.g. `Authorization`. */
  headers?: Record<string, string>
  /** Redacted endpoint id, put on every error. */
  endpoint: string
  /**
   * `fetch` implementation. Without one, Node uses `node:http`/`node:https` with a keep-alive agent
   * and browsers the global `fetch`. @default the platform's transport
   */
  fetch?: typeof fetch
  /** Wall clock for HTTP-date `Retry-After` values (ms since epoch). @default Date.now */
  now?: () => number
  /** Combine requests made within a short window into JSON-RPC batches. Off by default. */
  batch?: Required<BatchOptions> | false
  /** Timers for the batch window. @default the global timers */
  clock?: Clock
  /** Largest response body read (bytes, decoded); a larger one fails with `INVALID_RESPONSE`. @default 33_554_432 (32 MiB) */
  maxResponseBytes?: number
  /** Most connections open to the endpoint at once (Node's `node:http` transport only). @default 64 */
  maxSockets?: number
  /** How long an idle kept-alive connection stays open (ms; Node's `node:http` transport only). @default 4_000 */
  idleSocketTimeout?: number
}

/** Creates a JSON-RPC over HTTP transport. Every failure surfaces as a `ResilientRpcError`. */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const { url, endpoint } = options
  const errorOptions = { endpoint }
  const posterOptions: HttpPosterOptions = {
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
    errorOptions,
    now: options.now ?? Date.now,
    maxResponseBytes: integer('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 1),
    maxSockets: integer('maxSockets', options.maxSockets, DEFAULT_MAX_SOCKETS, 1),
    idleSocketTimeout: integer('idleSocketTimeout', options.idleSocketTimeout, DEFAULT_IDLE_SOCKET_TIMEOUT, 1),
  }
  const poster = options.fetch ? createFetchPoster(options.fetch, posterOptions) : createDefaultPoster(posterOptions)
  const post = (body: string, signal: AbortSignal) => poster.post(body, signal)
  const destroy = () => poster.destroy()
  let nextId = 1

  /** The result of the answer to request `id`, or the error it carries. */
  const read = ({ ok, status, parsed }: HttpAnswer, id: number): unknown => {
    if (!ok) {
      const error = (parsed as { error?: unknown } | null)?.error
      if (isJsonRpcErrorObject(error)) throw new RpcResponseError(error, { ...errorOptions, details: `HTTP ${status}` })
      throw new HttpError(status, errorOptions)
    }
    return unwrapResponse(parsed, id, errorOptions)
  }

  const single = (method: string, params: readonly unknown[], signal: AbortSignal, paramsJson?: string): Promise<unknown> => {
    const id = nextId++
    let body: string
    try {
      body = encodeRequest(id, method, params, paramsJson)
    } catch (error) {
      // Unserialisable params (a bigint): a rejection, like every other failure of a request.
      return Promise.reject(error)
    }
    return poster.post(body, signal, (answer) => read(answer, id))
  }

  if (!options.batch) return { request: (method, params, { signal, paramsJson }) => single(method, params, signal, paramsJson), destroy }
  const batcher = createBatcher(options.batch, {
    nextId: () => nextId++,
    post,
    single,
    errorOptions,
    clock: options.clock ?? systemClock,
  })
  return { request: batcher.request, destroy }
}
