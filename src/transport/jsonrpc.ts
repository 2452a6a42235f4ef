import { InvalidResponseError, RpcResponseError, isJsonRpcErrorObject } from '../errors/endpoint.js'
import type { ResilientRpcErrorOptions } from '../errors/base.js'

export type JsonRpcRequest = { jsonrpc: '2.0'; id: number; method: string; params: readonly unknown[] }

/** One JSON-RPC request object, serialised; `paramsJson` saves serialising params twice. */
export function encodeRequest(id: number, method: string, params: readonly unknown[], paramsJson?: string): string {
  return paramsJson === undefined
    ? JSON.stringify({ jsonrpc: '2.0', id, method, params } satisfies JsonRpcRequest)
    : `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`
}

/**
 * Validates a parsed JSON-RPC response to the request with id `id` and returns its `result`, or throws
 * `RpcResponseError` for an error answer and `InvalidResponseError` for anything malformed.
 */
export function unwrapResponse(body: unknown, id: number, options: ResilientRpcErrorOptions = {}): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidResponseError(Array.isArray(body) ? 'expected an object, got an array' : `expected an object, got ${body === null ? 'null' : typeof body}`, options)
  }
  const response = body as Record<string, unknown>
  if (response.id !== id) throw new InvalidResponseError(`id ${JSON.stringify(response.id) ?? 'undefined'} does not match request id ${id}`, options)
  if ('error' in response && response.error !== undefined && response.error !== null) {
    if (!isJsonRpcErrorObject(response.error)) throw new InvalidResponseError('malformed error object', options)
    throw new RpcResponseError(response.error, options)
  }
  if (!('result' in response)) throw new InvalidResponseError('neither result nor error', options)
  return response.result
}
