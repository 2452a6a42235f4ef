import { exclusionReason } from '../balancer/eligibility.js'
import type { EndpointExclusion, ResilientRpcError } from '../errors/base.js'
import { classifyError } from '../errors/classify.js'
import { NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import { AbortedError, NoHealthyEndpointError, PoolDestroyedError, RetriesExhaustedError, TimeoutError } from '../errors/request.js'
import type { Call } from './call.js'
import { eligibilityOf, type PoolCore } from './core.js'

/**
 * The one error a request rejects with: names the real cause and lists every attempt. Given the
 * pool's `core`, an error that gave up on the endpoints it tried also lists those it never tried
 * because they were out (`excluded`, with why), so every endpoint is accounted for.
 */
export function finalError(thrown: unknown, call: Call, callerSignal: AbortSignal | undefined, now: number, core?: PoolCore): ResilientRpcError {
  const attempts = [...call.attempts]
  const last = attempts.at(-1)?.error
  const untried = () => (core === undefined ? [] : untriedExclusions(core, call, now))
  if (callerSignal?.aborted) return new AbortedError({ cause: callerSignal.reason, attempts })
  if (isResilientRpcError(thrown, 'POOL_DESTROYED')) return new PoolDestroyedError({ attempts })
  if (isResilientRpcError(thrown, 'TIMEOUT') && thrown.scope === 'request') {
    if (call.waitingOn) return new NoHealthyEndpointError(call.waitingOn, { cause: thrown, attempts })
    // Attempts the deadline cut are still unwinding: list them as what ended them.
    for (const { endpoint, start } of call.running) attempts.push({ endpoint: endpoint.id, error: thrown, duration: now - start })
    return new TimeoutError('request', thrown.timeout, { cause: last ?? attempts.at(-1)?.error, attempts, excluded: untried() })
  }
  if (!isResilientRpcError(thrown)) return new NetworkError({ cause: thrown, attempts })
  const retryable = classifyError(thrown, { method: call.method }).retryable
  if (retryable && attempts.length > 1) return new RetriesExhaustedError({ cause: thrown, attempts, excluded: untried() })
  // Callers sharing a flight share its error object; the attempts are the same for all of them.
  thrown.attempts = attempts
  // An answer (a revert, invalid params) needs no other endpoint; giving up does.
  if (retryable || thrown.code === 'RETRY_BUDGET_EXHAUSTED' || thrown.code === 'BLOCK_UNAVAILABLE') thrown.excluded = untried()
  return thrown
}

/** Endpoints `call` never tried that are out now (down, quarantined, cooling down, open breaker, lagging…), with why. */
function untriedExclusions(core: PoolCore, call: Call, now: number): EndpointExclusion[] {
  const ctx = eligibilityOf(core, call.target, call.method)
  const excluded: EndpointExclusion[] = []
  for (const [i, view] of core.views.entries()) {
    if (call.tried.includes(i)) continue
    const reason = exclusionReason(view, now, ctx)
    if (reason !== undefined) excluded.push({ endpoint: view.id, reason })
  }
  return excluded
}
