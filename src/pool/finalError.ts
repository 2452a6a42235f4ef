import type { ResilientRpcError } from '../errors/base.js'
import { classifyError } from '../errors/classify.js'
import { NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import { AbortedError, NoHealthyEndpointError, PoolDestroyedError, RetriesExhaustedError, TimeoutError } from '../errors/request.js'
import type { Call } from './call.js'

/** The one error a request rejects with: names the real cause and lists every attempt. */
export function finalError(thrown: unknown, call: Call, callerSignal: AbortSignal | undefined, now: number): ResilientRpcError {
  const attempts = [...call.attempts]
  const last = attempts.at(-1)?.error
  if (callerSignal?.aborted) return new AbortedError({ cause: callerSignal.reason, attempts })
  if (isResilientRpcError(thrown, 'POOL_DESTROYED')) return new PoolDestroyedError({ attempts })
  if (isResilientRpcError(thrown, 'TIMEOUT') && thrown.scope === 'request') {
    if (call.waitingOn) return new NoHealthyEndpointError(call.waitingOn, { cause: thrown, attempts })
    // Attempts the deadline cut are still unwinding: list them as what ended them.
    for (const { endpoint, start } of call.running) attempts.push({ endpoint: endpoint.id, error: thrown, duration: now - start })
    return new TimeoutError('request', thrown.timeout, { cause: last ?? attempts.at(-1)?.error, attempts })
  }
  if (!isResilientRpcError(thrown)) return new NetworkError({ cause: thrown, attempts })
  if (classifyError(thrown, { method: call.method }).retryable && attempts.length > 1) {
    return new RetriesExhaustedError({ cause: thrown, attempts })
  }
  // Callers sharing a flight share its error object; the attempts are the same for all of them.
  thrown.attempts = attempts
  return thrown
}
