import { duration } from '../config/validate.js'
import { TimeoutError } from '../errors/request.js'
import { startRequestSpan } from '../observability/tracing.js'
import { withTimeout } from '../policy/timeout.js'
import type { Attempts } from './attempt.js'
import { newCall, type RequestOptions } from './call.js'
import { notServing, type PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'
import { finalError } from './finalError.js'

/** One endpoint's copy of a broadcast, settling on its own. */
export type BroadcastResult<T> = { endpoint: string; result: Promise<T> }

/**
 * Sends a request once to every endpoint that can take it now, in parallel, without retries: each
 * copy is one attempt under the request's deadline and signal, its outcome recorded on its endpoint
 * like any other. A broadcast respects the endpoints' limits too: one at its limit is not sent a copy.
 * @throws `POOL_DESTROYED`, `INVALID_OPTION` (synchronously)
 */
export function broadcast<T>(core: PoolCore, dispatcher: Dispatcher, attempts: Attempts, method: string, params: readonly unknown[], options: RequestOptions): Array<BroadcastResult<T>> {
  const refused = notServing(core)
  if (refused) throw refused
  const timeout = duration('timeout', options.timeout, core.options.defaultTimeout, false, true)
  const takers = dispatcher.takersNow(newCall(core.options, method, params, options))
  return takers.map((endpoint) => {
    const call = newCall(core.options, method, params, { ...options, retries: 0 })
    const span = (call.span = startRequestSpan(core.options.tracer, method, 'broadcast'))
    dispatcher.reserve(endpoint, call)
    const controller = new AbortController()
    core.active.add(controller)
    const result = withTimeout((signal) => attempts.run(endpoint, call, signal), {
      timeout,
      signal: options.signal,
      clock: core.clock,
      controller,
      onTimeout: () => new TimeoutError('request', timeout),
    })
      .then(
        (value) => {
          span?.end(undefined, 1)
          return value
        },
        (error: unknown) => {
          const final = finalError(error, call, options.signal, core.clock.now())
          span?.end(final, 1)
          throw final
        },
      )
      .finally(() => core.active.delete(controller))
    return { endpoint: endpoint.id, result: result as Promise<T> }
  })
}
