import pTimeout from 'p-timeout'
import { duration, knownKeys, optionalSignal, optionNames, optionsObject } from '../config/validate.js'
import { isResilientRpcError } from '../errors/guard.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { AbortedError, NotReadyError, TimeoutError } from '../errors/request.js'
import { globalTimersOf } from '../util/clock.js'
import { show } from '../util/show.js'
import { notServing, type PoolCore } from './core.js'
import type { Dispatcher } from './dispatch.js'

export type ReadyOptions = {
  /** How many endpoints must have answered a heartbeat on the right chain. @default 1 */
  minHealthy?: number
  /** How long to wait (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  signal?: AbortSignal
}

const READY_OPTIONS = optionNames<ReadyOptions>({ minHealthy: true, timeout: true, signal: true })

/**
 * Resolves once `minHealthy` endpoints are up (answered a heartbeat on the pool's chain); rejects with
 * `NOT_READY`, listing why each endpoint is out, when `timeout` passes first. One wait per call, on
 * p-timeout with the pool's clock; every endpoint change wakes it, nothing polls.
 * @throws `NOT_READY`, `ABORTED`, `POOL_DESTROYED`, `INVALID_OPTION`
 */
export async function ready(core: PoolCore, dispatcher: Dispatcher, options: ReadyOptions = {}): Promise<void> {
  const refused = notServing(core)
  if (refused) throw refused
  optionsObject('options', options)
  knownKeys('', options, READY_OPTIONS)
  optionalSignal('signal', options.signal)
  const n = core.endpoints.length
  const minHealthy = options.minHealthy ?? 1
  if (!Number.isInteger(minHealthy) || minHealthy < 1 || minHealthy > n) {
    throw new InvalidOptionError('minHealthy', `expected an integer from 1 to ${n} (the number of endpoints), got ${show(minHealthy)}`)
  }
  const timeout = duration('timeout', options.timeout, core.options.defaultTimeout, false, true)
  const healthy = () => core.views.filter((v) => v.health === 'up').length
  // Ends the wait loop however the wait ends; destroy() aborts it too.
  const controller = new AbortController()
  core.active.add(controller)
  const waiting = (async () => {
    for (;;) {
      // A chain that comes into doubt while waiting ends the wait too.
      const doubt = notServing(core)
      if (doubt) throw doubt
      if (healthy() >= minHealthy) return
      await dispatcher.waitForChange(controller.signal)
    }
  })()
  try {
    await pTimeout(waiting, { milliseconds: timeout, signal: options.signal, customTimers: globalTimersOf(core.clock), message: new TimeoutError('request', timeout) })
  } catch (error) {
    if (options.signal?.aborted) throw new AbortedError({ cause: options.signal.reason })
    if (isResilientRpcError(error, 'TIMEOUT')) {
      const now = core.clock.now()
      const reasons = dispatcher.exclusions(now)
      const out = core.views.filter((v) => v.health !== 'up').map((v) => reasons[v.index] ?? { endpoint: v.id, reason: v.status })
      throw new NotReadyError(healthy(), minHealthy, out, { cause: error })
    }
    throw error
  } finally {
    controller.abort()
    core.active.delete(controller)
    // The loop ends with the abort above; its rejection is expected.
    waiting.catch(() => {})
  }
}
