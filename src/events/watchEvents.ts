import type { ResilientRpcError } from '../errors/base.js'
import { AbortedError } from '../errors/request.js'
import type { Pool } from '../pool/pool.js'
import type { BlockHeader } from '../subscriptions/heads.js'
import { CanonicalChain } from './chain.js'
import { Progress } from './checkpoint.js'
import { createEventDecoder } from './decoder.js'
import { resolveWatchOptions, type EventHandler, type WatchContext, type WatchEventsOptions } from './options.js'
import { RangeSize } from './rangeSize.js'
import { retryCallback } from './retry.js'
import type { WatchState } from './state.js'
import { createWorker } from './worker.js'

export type EventWatcher = {
  /** Stops: no handler call starts after it; resolves once the handler in progress (if any) returned. Idempotent. */
  stop(): Promise<void>
  /** Resolves when the watcher has ended (stop, signal, or its pool destroyed). Never rejects. */
  readonly done: Promise<void>
  /** The last fully processed block (as last given to `onCheckpoint`), `undefined` before the start is known. */
  checkpoint(): bigint | undefined
}

/**
 * Delivers a contract's events exactly once, in chain order, `confirmations` deep, whatever the
 * endpoints do: it follows the pool's `newHeads` subscription (WebSocket or polling), backfills from
 * `fromBlock` with `eth_getLogs` ranges that shrink on range-limit errors, fetches recent blocks by
 * hash checked against the head stream, and reports each fully handled block to `onCheckpoint`.
 * @returns a handle to stop it
 * @throws `INVALID_OPTION`, `INVALID_ABI`, `POOL_DESTROYED` (synchronously)
 * @example
 * const watcher = watchEvents(pool, { address, abi, eventName: 'Transfer', fromBlock: saved + 1n, confirmations: 12,
 *   onCheckpoint: (block) => db.saveCheckpoint(block) }, async (event) => { await db.credit(event.args!.to, event.args!.value) })
 */
export function watchEvents(pool: Pool, options: WatchEventsOptions, handler: EventHandler): EventWatcher {
  const o = resolveWatchOptions(options, handler)
  const decoder = createEventDecoder({ abi: options.abi, eventName: options.eventName, topics: options.topics })
  const stopper = new AbortController()
  const signal = stopper.signal
  const context: WatchContext = { signal }

  const report = (error: ResilientRpcError) => {
    if (signal.aborted) return
    try {
      o.onError?.(error)
    } catch {
      // An error reporter that throws has nobody left to report to.
    }
  }
  const retry = { backoff: o.retryBackoff, signal, report }
  const onCheckpoint = o.onCheckpoint
  const progress = new Progress(async (block) => {
    // Once more after a stop: the block is done, and a service that does not learn it would fetch it again.
    if (onCheckpoint) await retryCallback('onCheckpoint', () => onCheckpoint(block), { ...retry, evenIfStopped: true })
  })
  const chain = new CanonicalChain(o.reorgWindow)
  const state: WatchState = {
    pool,
    signal,
    filter: { ...(o.address === undefined ? {} : { address: o.address }), ...(decoder.topics === undefined ? {} : { topics: decoder.topics }) },
    decoder,
    chain,
    range: new RangeSize({ initial: o.range }),
    progress,
    maxBufferedLogs: o.maxBufferedLogs,
    deliver: (event, stillWanted) => retryCallback('event handler', () => handler(event, context), { ...retry, stillWanted }),
  }
  const worker = createWorker(state, o, report)

  const unsubscribe = pool.subscribe(
    'newHeads',
    (head: BlockHeader) => {
      chain.add(head)
      worker.head()
    },
    {
      signal,
      maxBackfill: o.reorgWindow,
      pollInterval: o.pollInterval,
      onReorg: (e) => {
        chain.remove(e.removed)
        worker.reorg(e)
      },
      onError: report,
    },
  )

  const end = () => {
    if (signal.aborted) return
    stopper.abort(new AbortedError({ details: 'watcher stopped' }))
    unsubscribe()
    o.signal?.removeEventListener('abort', end)
    pool.signal.removeEventListener('abort', end)
    worker.wake()
  }
  const done = worker.run().finally(() => {
    // The pool destroyed or a stop: either way nothing of ours stays behind.
    end()
    progress.clear()
  })
  if (o.signal?.aborted || pool.signal.aborted) end()
  else {
    o.signal?.addEventListener('abort', end, { once: true })
    pool.signal.addEventListener('abort', end, { once: true })
  }

  return {
    stop: () => {
      end()
      return done
    },
    done,
    checkpoint: () => progress.processed,
  }
}
