import pRetry, { AbortError, type Options as RetryOptions } from 'p-retry'
import type { BackoffOptions } from '../config/policyOptions.js'
import { HandlerError } from '../errors/contract.js'
import type { ResilientRpcError } from '../errors/base.js'
import { backoffSchedule } from '../util/backoffSchedule.js'

// The watcher's two back-off loops (a failing step, a throwing handler or onCheckpoint) are p-retry's:
// it drives the loop, waits, and ends the wait at once when the watcher's signal aborts. Its timers
// are the global ones, not an injected clock: the watcher is the documented exception to the one
// clock, and its tests use fake timers.

/** Back-off between retries, as `retryBackoff` gives it (every field set). */
export type WatchBackoff = Required<BackoffOptions>

/**
 * p-retry's options for a loop that goes on until it succeeds or `signal` aborts: delays from
 * `initial` growing by `factor` up to `max`, one jitter draw per loop (src/util/backoffSchedule.ts).
 */
export function retryForever(backoff: WatchBackoff, signal: AbortSignal, random: () => number = Math.random): RetryOptions {
  return { ...backoffSchedule(backoff, random), retries: Infinity, signal }
}

export type CallbackRetry = {
  backoff: WatchBackoff
  /** Ends the retries at once (a wait in progress included). */
  signal: AbortSignal
  /** Told of each failure, as `HANDLER_FAILED` with the count of failures in a row. */
  report: (error: ResilientRpcError) => void
  /** Asked before each retry: `false` gives up (the event's block left the chain). @default always */
  stillWanted?: () => boolean
  /** Makes one attempt even when `signal` has aborted already (a checkpoint a stop must not lose). */
  evenIfStopped?: boolean
}

/** Thrown into p-retry when a retry is no longer wanted: it ends the loop without another report. */
const UNWANTED = new Error('no longer wanted')

/**
 * Calls the user's `callback` (the event handler, `onCheckpoint`) until it returns without throwing,
 * with back-off between attempts. Resolves `true` once it succeeded, `false` when it was given up
 * (stopped, or no longer wanted); never rejects.
 */
export async function retryCallback(what: string, callback: () => void | Promise<void>, options: CallbackRetry): Promise<boolean> {
  const { signal, report, stillWanted = () => true } = options
  if (!stillWanted()) return false
  let succeeded = false
  const attempt = async (attemptNumber: number) => {
    if (attemptNumber > 1 && !stillWanted()) throw new AbortError(UNWANTED)
    try {
      await callback()
    } catch (cause) {
      // Ours, whatever was thrown: p-retry would not retry a TypeError or a thrown non-Error.
      throw new HandlerError(what, attemptNumber, { cause })
    }
    succeeded = true
  }
  if (signal.aborted) {
    if (!options.evenIfStopped) return false
    await attempt(1).catch(() => {})
    return succeeded
  }
  try {
    await pRetry(attempt, {
      ...retryForever(options.backoff, signal),
      onFailedAttempt: ({ error }) => report(error as HandlerError),
      shouldRetry: () => stillWanted(),
    })
  } catch {
    // Stopped, or no longer wanted: each failure was reported already.
  }
  // p-retry rejects on a stop that came while the last attempt was succeeding: it did succeed.
  return succeeded
}
