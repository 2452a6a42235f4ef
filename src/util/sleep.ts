import { systemClock, type Clock } from './clock.js'

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. Leaves no timer
 * or listener behind either way.
 */
export function sleep(ms: number, { signal, clock = systemClock }: { signal?: AbortSignal; clock?: Clock } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    if (ms <= 0) return resolve()
    const onAbort = () => {
      clock.clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
