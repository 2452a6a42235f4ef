// How the WebSocket transport's failures become our typed errors. Endpoint ids only: the URL (and
// the API key its path or query may hold) never reaches an error.
import { HttpError, NetworkError, RateLimitedError, UnauthorizedError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { ResilientRpcError } from '../errors/base.js'
import type { WebSocketEventLike } from '../types/webSocket.js'

/**
 * A socket's error event as one of ours. `ws` reports a refused upgrade as "Unexpected server
 * response: STATUS", which says more than "network error": a 401 is a bad key, a 429 a throttle.
 * Browsers give no details at all.
 */
export function socketError(event: WebSocketEventLike, endpoint: string): ResilientRpcError {
  const cause = event.error
  const message = cause instanceof Error ? cause.message : ''
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1]
  if (status !== undefined) {
    const code = Number(status)
    if (code === 401 || code === 403) return new UnauthorizedError(code, { endpoint, cause })
    if (code === 429) return new RateLimitedError(undefined, { endpoint, cause })
    return new HttpError(code, { endpoint, cause, details: 'websocket upgrade refused' })
  }
  // NetworkError names the cause from its code (ECONNREFUSED, …), never from a message that may quote the URL.
  return new NetworkError({ endpoint, cause, details: 'websocket error' })
}

/**
 * What a request still pending on a connection that ended fails with: a retryable `NETWORK` error
 * (the pool fails over), its cause saying why the connection ended; `POOL_DESTROYED` stays itself.
 */
export function closedError(reason: ResilientRpcError | undefined, endpoint: string): ResilientRpcError {
  return reason?.code === 'POOL_DESTROYED' ? reason : new NetworkError({ endpoint, details: 'websocket closed', cause: reason })
}

/** Ours as it is; anything else (a custom handshake's throw, say) wrapped as a `NETWORK` error. */
export function asRpcError(error: unknown, endpoint: string, details: string): ResilientRpcError {
  return isResilientRpcError(error) ? error : new NetworkError({ endpoint, details, cause: error })
}
