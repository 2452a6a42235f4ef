import pTimeout from 'p-timeout'
import { AbortedError, TimeoutError } from '../errors/errors.js'
import { systemClock, type Clock } from '../util/clock.js'

export type WithTimeoutOptions = {
  /** Time limit (ms). `Infinity` disables the timer but keeps abort propagation. */
  timeout: number
  /** Parent signal: aborting it aborts the child with the same reason. */
  signal?: AbortSignal
  /** Builds the error the child signal is aborted with when the time is up. */
  onTimeout: () => Error
  clock?: Clock
  /** Use this controller for the child signal (lets an owner abort it, e.g. on destroy). */
  controller?: AbortController
}

/**
 * One deadline for a multi-step operation (several requests, sleeps): `run` gets a signal that aborts
 * when `timeout` passes or the caller's `signal` aborts; a caller's abort rejects with `AbortedError`,
 * the deadline with `TimeoutError('request', timeout)`. Without a timeout only the signal bounds it.
 */
export async function withDeadline<T>(run: (signal: AbortSignal) => Promise<T>, options: { timeout?: number; signal?: AbortSignal; clock?: Clock }): Promise<T> {
  const { timeout = Infinity, signal, clock } = options
  try {
    return await withTimeout(run, { timeout, signal, clock, onTimeout: () => new TimeoutError('request', timeout) })
  } catch (error) {
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
    throw error
  }
}

/**
 * Runs `run` with a child signal that aborts when the parent aborts or the time limit passes, so a
 * timeout cancels the underlying I/O instead of only abandoning the race. Settles as soon as the child
 * aborts even if `run` ignores its signal: no call outlives its deadline.
 */
export async function withTimeout<T>(run: (signal: AbortSignal) => Promise<T>, options: WithTimeoutOptions): Promise<T> {
  const { timeout, signal: parent, onTimeout, clock = systemClock } = options
  const controller = options.controller ?? new AbortController()
  const child = controller.signal
  if (parent?.aborted) controller.abort(parent.reason)
  // One listener on the parent, removed in `finally`: never `AbortSignal.any` on a long-lived parent (it leaks on Node 20).
  const onParentAbort = () => controller.abort(parent!.reason)
  parent?.addEventListener('abort', onParentAbort, { once: true })
  try {
    child.throwIfAborted()
    return await pTimeout(run(child), {
      milliseconds: timeout,
      signal: child,
      // Wrapped, not passed as methods: p-timeout calls them without `this`, and a clock may be a class.
      customTimers: { setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms), clearTimeout: (h: never) => clock.clearTimeout(h) } as never,
      fallback: () => {
        const error = onTimeout()
        controller.abort(error)
        throw error
      },
    })
  } finally {
    parent?.removeEventListener('abort', onParentAbort)
  }
}
