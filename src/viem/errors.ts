import { BaseError, HttpRequestError, RpcRequestError, TimeoutError } from 'viem'
import { isResilientRpcError, ProviderRpcError, type ResilientRpcError } from 'resilient-rpc'

/** What viem shows of the request that failed (its errors print it). */
export type RequestBody = { method: string; params?: unknown }

/**
 * A pool failure no viem class describes (retries or the retry budget exhausted, a quorum that
 * failed, a full queue, a block no endpoint has): viem's `BaseError`, so viem's error handling and
 * `walk()` work, with the pool's code in its short message and the pool's error as `cause`.
 */
export class ResilientRpcRequestError extends BaseError {
  /** The pool's error code (`RETRIES_EXHAUSTED`, …). */
  readonly code: string
  constructor(error: ResilientRpcError, body: RequestBody) {
    super(`${error.shortMessage} (resilient-rpc ${error.code})`, {
      cause: error,
      metaMessages: [`Request body: ${JSON.stringify(body)}`],
      name: 'ResilientRpcRequestError',
    })
    this.code = error.code
  }
}

/**
 * The error viem should see for what the pool threw: viem's own class where one fits, so viem's
 * actions treat it as they would their http transport's — a node's answer as `RpcRequestError` with
 * its code, message and data (viem then raises its class for the code, and decodes reverts by name
 * from the data), a deadline as `TimeoutError`, HTTP and network failures as `HttpRequestError`, no
 * endpoint left as a 4900 (`ProviderDisconnectedError`) — with the pool's error underneath as `cause`
 * (viem's `walk()` reaches it). Anything else is a `ResilientRpcRequestError`.
 */
export function toViemError(thrown: unknown, body: RequestBody): Error {
  // The EIP-1193 provider's errors carry the pool's error; its own (a malformed request, a filter
  // it does not know) are answers in JSON-RPC's words.
  const error = thrown instanceof ProviderRpcError && isResilientRpcError(thrown.cause) ? thrown.cause : thrown
  if (thrown instanceof ProviderRpcError && error === thrown) return answer(body, 'resilient-rpc', { code: thrown.code, message: thrown.message, data: thrown.data }, thrown)
  if (!isResilientRpcError(error)) return error instanceof Error ? error : new Error(String(error))
  const url = error.endpoint ?? 'resilient-rpc'
  if (isResilientRpcError(error, 'RPC_ERROR')) return answer(body, url, { code: error.rpcCode, message: error.rpcMessage, data: error.data }, error)
  switch (error.code) {
    case 'CALL_REVERTED':
      return answer(body, url, { code: 3, message: error.message, data: (error as { data?: unknown }).data }, error)
    case 'RATE_LIMITED':
      return answer(body, url, { code: -32005, message: error.message }, error)
    case 'TIMEOUT':
      return Object.assign(new TimeoutError({ body, url }), { cause: error })
    case 'HTTP_ERROR':
    case 'UNAUTHORIZED':
      return new HttpRequestError({ body, url, status: (error as { status?: number }).status, details: error.shortMessage, cause: error })
    case 'NETWORK':
      return new HttpRequestError({ body, url, details: error.shortMessage, cause: error })
    case 'NO_ENDPOINT':
    case 'POOL_DESTROYED':
      // viem raises ProviderDisconnectedError for 4900, with this underneath.
      return answer(body, url, { code: 4900, message: error.message }, error)
    default:
      return new ResilientRpcRequestError(error, body)
  }
}

/** A JSON-RPC error answer as viem's http transport reports one, the pool's error beneath it. */
function answer(body: RequestBody, url: string, rpc: { code: number; message: string; data?: unknown }, cause: Error): RpcRequestError {
  // RpcRequestError keeps `rpc` as its cause: the pool's error hangs below it, for `walk()`.
  return new RpcRequestError({ body, url, error: Object.assign(new Error(rpc.message), { code: rpc.code, data: rpc.data, cause }) })
}
