import pTimeout from 'p-timeout'
import { AbortedError, TimeoutError } from '../errors/request.js'
import { ConfirmationTimeoutError, type TransactionState } from '../errors/contract.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { bigInteger, duration, knownKeys, optionNames, optionalFunction, optionalSignal, optionsObject } from '../config/validate.js'
import type { Pool } from '../pool/pool.js'
import { createAbortController } from '../util/abort.js'
import { sleep } from '../util/sleep.js'
import { globalTimersOf, systemClock, type Clock } from '../util/clock.js'
import { HASH } from '../util/hex.js'

/** A transaction receipt as the node returns it (quantities in hex). */
export type TransactionReceipt = {
  transactionHash: string
  blockHash: string
  blockNumber: string
  status?: string
  [field: string]: unknown
}

export type WaitForTransactionOptions = {
  /** Blocks the receipt's block must have on top, counting itself (1 = mined). @default 1 */
  confirmations?: number | bigint
  /** Deadline (ms). @default 60_000 */
  timeout?: number
  signal?: AbortSignal
  /** Time between receipt polls (ms). @default 1_000 */
  pollInterval?: number
  /** Called on every change of state: pending, mined (at each new depth), reorged out or moved. */
  onState?: (state: TransactionState) => void
  /** Time for the polls and the deadline. @default the system clock */
  clock?: Clock
}

/**
 * Waits until a transaction is `confirmations` deep on the canonical chain and resolves with its
 * receipt (a reverted transaction resolves too: check `status`). A receipt whose block is no longer
 * canonical (a reorg) is not believed: the wait goes on, and `onState` hears `reorged`.
 * @throws `CONFIRMATION_TIMEOUT` naming the last state seen, `ABORTED`, `POOL_DESTROYED`, `INVALID_OPTION`
 * @example
 * const receipt = await waitForTransaction(pool, hash, { confirmations: 3, timeout: 120_000 })
 */
export async function waitForTransaction(pool: Pool, hash: string, options: WaitForTransactionOptions = {}): Promise<TransactionReceipt> {
  optionsObject('options', options)
  knownKeys('', options, WAIT_OPTIONS)
  if (typeof hash !== 'string' || !HASH.test(hash)) throw new InvalidOptionError('hash', 'expected a 32-byte hex transaction hash')
  const wanted = bigInteger('confirmations', options.confirmations ?? 1, false)
  const signal = optionalSignal('signal', options.signal)
  const onState = optionalFunction('onState', options.onState)
  const clock = options.clock ?? systemClock
  const timeout = duration('timeout', options.timeout, 60_000, false, true)
  // A zero interval would poll in a busy loop.
  const pollInterval = duration('pollInterval', options.pollInterval, 1_000)
  let last: TransactionState = { status: 'pending' }
  let reported: string | undefined

  const report = (state: TransactionState) => {
    last = state
    const key = JSON.stringify(state, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
    if (key === reported) return
    reported = key
    onState?.(state)
  }

  // One signal for the polls: the caller's, the pool's end (not only noticed at the next poll) and
  // the deadline all abort the request in flight.
  const controller = createAbortController()
  const onDestroyed = () => controller.abort(pool.signal.reason)
  const onAbort = () => controller.abort(signal!.reason)
  if (pool.signal.aborted) throw pool.signal.reason
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
  pool.signal.addEventListener('abort', onDestroyed, { once: true })
  signal?.addEventListener('abort', onAbort, { once: true })

  const poll = async (signal: AbortSignal): Promise<TransactionReceipt> => {
    for (;;) {
      const receipt = await pool.request<TransactionReceipt | null>('eth_getTransactionReceipt', [hash], { signal })
      if (receipt === null) {
        // Seen mined before, gone now: its block was reorged out.
        if (last.status === 'mined') report({ status: 'reorged', blockNumber: last.blockNumber, blockHash: last.blockHash })
        else if (last.status !== 'reorged') report({ status: 'pending' })
      } else {
        const blockNumber = BigInt(receipt.blockNumber)
        const canonical = await pool.request<{ hash: string } | null>('eth_getBlockByNumber', [receipt.blockNumber, false], { signal })
        if (canonical?.hash !== receipt.blockHash) {
          report({ status: 'reorged', blockNumber, blockHash: receipt.blockHash })
        } else {
          // Depth from a fresh confirmed head: the pool's may be a heartbeat old, blocks behind the receipt's.
          const head = await pool.freshHead({ signal })
          const confirmations = head >= blockNumber ? head - blockNumber + 1n : 1n
          if (last.status === 'mined' && last.blockHash !== receipt.blockHash) report({ status: 'reorged', blockNumber: last.blockNumber, blockHash: last.blockHash })
          report({ status: 'mined', blockNumber, blockHash: receipt.blockHash, confirmations, reverted: receipt.status === '0x0' })
          if (confirmations >= wanted) return receipt
        }
      }
      await sleep(pollInterval, { signal, clock })
    }
  }

  try {
    // A one-off wait: p-timeout races it against the deadline on our clock, and settles at once when
    // the signal aborts. Its own TimeoutError never escapes: the fallback throws ours.
    return await pTimeout<TransactionReceipt, never>(poll(controller.signal), {
      milliseconds: timeout,
      signal: controller.signal,
      customTimers: globalTimersOf(clock),
      fallback: () => {
        throw new ConfirmationTimeoutError(hash, wanted, last, { cause: new TimeoutError('request', timeout) })
      },
    })
  } catch (error) {
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
    throw error
  } finally {
    pool.signal.removeEventListener('abort', onDestroyed)
    signal?.removeEventListener('abort', onAbort)
    // Past the deadline (or after an error) the poll may still be waiting: it ends here.
    controller.abort(new AbortedError({ details: 'waitForTransaction settled' }))
  }
}

const WAIT_OPTIONS = optionNames<WaitForTransactionOptions>({ confirmations: true, timeout: true, signal: true, pollInterval: true, onState: true, clock: true })
