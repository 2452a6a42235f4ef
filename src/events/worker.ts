import pRetry, { AbortError } from 'p-retry'
import type { ResilientRpcError } from '../errors/base.js'
import { NetworkError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { HeadsReorg } from '../subscriptions/heads.js'
import { fetchByHash } from './hashFetch.js'
import type { ResolvedWatchOptions } from './options.js'
import { fetchRange } from './rangeFetch.js'
import { applyReorgs } from './reorgNotices.js'
import { retryForever } from './retry.js'
import type { WatchState } from './state.js'

/** What the head stream tells the worker; the worker runs its steps on it. */
export type Worker = {
  /** A new head (already added to the chain): there may be a block to fetch. */
  head(): void
  /** A reorg notice (its blocks already taken out of the chain): taken back before anything else. */
  reorg(reorg: HeadsReorg): void
  /** Wakes the worker after a stop, so that `run` returns. */
  wake(): void
  /**
   * Runs steps one at a time until the watcher stops or its pool is destroyed: a failing step is
   * reported and retried with back-off, an idle one waits for news. Never rejects.
   */
  run(): Promise<void>
}

type WorkerOptions = Pick<ResolvedWatchOptions, 'fromBlock' | 'confirmations' | 'parallel' | 'retryBackoff'>

/** The watcher's one worker: every step (reorg notices, a range, blocks by hash) runs on it in turn. */
export function createWorker(state: WatchState, options: WorkerOptions, report: (error: ResilientRpcError) => void): Worker {
  const { signal, chain, progress, range } = state
  const reorgs: HeadsReorg[] = []
  let wakeUp: (() => void) | undefined
  // Set by every head or reorg, cleared by each step: news that arrives while a step runs is not lost.
  let news = false
  const wake = () => {
    news = true
    const w = wakeUp
    wakeUp = undefined
    w?.()
  }

  /** Resolves on the next head or reorg, or on stop (a destroyed pool stops the watcher). */
  const idle = () =>
    new Promise<void>((resolve) => {
      if (news || signal.aborted) return resolve()
      const done = () => {
        signal.removeEventListener('abort', done)
        wakeUp = undefined
        resolve()
      }
      wakeUp = done
      signal.addEventListener('abort', done, { once: true })
    })

  /** One unit of work; `false` when there is nothing to do until the next head. */
  const step = async (): Promise<boolean> => {
    news = false
    if (reorgs.length > 0) {
      await applyReorgs(state, reorgs.splice(0))
      return true
    }
    const tip = chain.tip
    if (tip === undefined) return false
    const target = tip - BigInt(options.confirmations)
    const processed = progress.processed
    if (processed === undefined) {
      // The start: before it, nothing is ours to deliver.
      progress.start(options.fromBlock === 'latest' ? (target < -1n ? -1n : target) : options.fromBlock - 1n)
      return true
    }
    if (processed >= target) return false
    const next = processed + 1n
    const settled = chain.settledAt!
    if (next > settled) {
      // A chain that moved under the walk is news (a reorg or a gap): the next step looks again.
      return fetchByHash(state, next, min(target, next + BigInt(options.parallel) - 1n))
    }
    await fetchRange(state, next, min(min(target, settled), next + BigInt(range.size) - 1n))
    return true
  }

  /** A step's failure as p-retry should see it: ours (so that it is retried whatever it was), or the end. */
  const attempt = async () => {
    try {
      return await step()
    } catch (error) {
      if (isResilientRpcError(error, 'POOL_DESTROYED')) throw new AbortError(error)
      throw isResilientRpcError(error) ? error : new NetworkError({ details: 'event watcher', cause: error })
    }
  }

  return {
    head: wake,
    reorg(reorg) {
      reorgs.push(reorg)
      wake()
    },
    wake,
    async run() {
      try {
        while (!signal.aborted) {
          const progressed = await pRetry(attempt, { ...retryForever(options.retryBackoff, signal), onFailedAttempt: ({ error }) => report(error as ResilientRpcError) })
          if (!progressed) await idle()
        }
      } catch {
        // Stopped, or the pool destroyed: either way the watcher ends.
      }
    },
  }
}

const min = (a: bigint, b: bigint) => (a < b ? a : b)
