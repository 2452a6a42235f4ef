import { AbortedError, TimeoutError } from '../errors/request.js'
import { createAbortController } from '../util/abort.js'
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js'

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
 * Waits for `promise` until `timeout` passes or `signal` aborts, whichever is first: rejects with
 * `onTimeout()` or the signal's reason. Cancels nothing itself (the caller owns what `promise` does):
 * used by a caller waiting on work it shares with others. No AbortController, one timer.
 */
export function waitAtMost<T>(promise: Promise<T>, options: { timeout: number; signal?: AbortSignal; onTimeout: () => Error; clock?: Clock }): Promise<T> {
  const { timeout, signal, onTimeout, clock = systemClock } = options
  if (signal?.aborted) return Promise.reject(signal.reason)
  if (timeout === Infinity && !signal) return promise
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      if (timer !== undefined) clock.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      done()
      reject(signal!.reason)
    }
    const timer =
      timeout === Infinity
        ? undefined
        : clock.setTimeout(() => {
            signal?.removeEventListener('abort', onAbort)
            reject(onTimeout())
          }, timeout)
    signal?.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        done()
        resolve(value)
      },
      (error: unknown) => {
        done()
        reject(error)
      },
    )
  })
}

/**
 * Runs `run` with a child signal that aborts when the parent aborts or the time limit passes, so a
 * timeout cancels the underlying I/O instead of only abandoning the race. Settles as soon as the child
 * aborts even if `run` ignores its signal: no call outlives its deadline.
 */
export function withTimeout<T>(run: (signal: AbortSignal) => Promise<T>, options: WithTimeoutOptions): Promise<T> {
  const { timeout, signal: parent, onTimeout, clock = systemClock } = options
  const controller = options.controller ?? createAbortController()
  const child = controller.signal
  if (parent?.aborted) controller.abort(parent.reason)
  if (child.aborted) return Promise.reject(child.reason)
  return new Promise<T>((resolve, reject) => {
    // Our own timer aborts the child with our error. (p-timeout, given a time limit, builds a
    // TimeoutError with a stack trace on every call: a quarter of the pool's CPU per request, measured.)
    let timer: TimerHandle | undefined =
      timeout === Infinity
        ? undefined
        : clock.setTimeout(() => {
            timer = undefined
            controller.abort(onTimeout())
          }, timeout)
    const cleanup = () => {
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      child.removeEventListener('abort', onChildAbort)
      parent?.removeEventListener('abort', onParentAbort)
    }
    // The child's one listener: whoever aborts it (parent, timer, the owner's teardown, a won hedge),
    // the timer goes at once and the call settles with the reason, whatever `run` does.
    const onChildAbort = () => {
      cleanup()
      reject(child.reason)
    }
    // One listener on the parent, removed on settling: never `AbortSignal.any` on a long-lived parent (it leaks on Node 20).
    const onParentAbort = () => controller.abort(parent!.reason)
    child.addEventListener('abort', onChildAbort, { once: true })
    parent?.addEventListener('abort', onParentAbort, { once: true })
    let work: Promise<T>
    try {
      work = run(child)
    } catch (error) {
      cleanup()
      return reject(error)
    }
    work.then(
      (value) => {
        cleanup()
        resolve(value)
      },
      (error: unknown) => {
        cleanup()
        reject(error)
      },
    )
  })
}
