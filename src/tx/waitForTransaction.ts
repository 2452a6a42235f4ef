import { AbortedError, TimeoutError } from '../errors/request.js'
import { ConfirmationTimeoutError, type TransactionState } from '../errors/contract.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import { withTimeout } from '../policy/timeout.js'
import { duration } from '../config/validate.js'
import type { Pool } from '../pool/pool.js'
import { sleep } from '../util/sleep.js'
import { systemClock, type Clock } from '../util/clock.js'
import { show } from '../util/show.js'
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
  const { signal, onState, clock = systemClock } = options
  if (typeof hash !== 'string' || !HASH.test(hash)) throw new InvalidOptionError('hash', 'expected a 32-byte hex transaction hash')
  const confirmations = options.confirmations ?? 1
  if (!(typeof confirmations === 'bigint' || Number.isSafeInteger(confirmations)) || BigInt(confirmations) < 1n) {
    throw new InvalidOptionError('confirmations', `expected an integer >= 1, got ${show(confirmations)}`)
  }
  const wanted = BigInt(confirmations)
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

  // The pool's end is this wait's end too, not only at the next poll.
  const controller = new AbortController()
  const onDestroyed = () => controller.abort(pool.signal.reason)
  if (pool.signal.aborted) throw pool.signal.reason
  pool.signal.addEventListener('abort', onDestroyed, { once: true })
  try {
    return await withTimeout(
      async (deadline) => {
        for (;;) {
          const receipt = await pool.request<TransactionReceipt | null>('eth_getTransactionReceipt', [hash], { signal: deadline })
          if (receipt === null) {
            // Seen mined before, gone now: its block was reorged out.
            if (last.status === 'mined') report({ status: 'reorged', blockNumber: last.blockNumber, blockHash: last.blockHash })
            else if (last.status !== 'reorged') report({ status: 'pending' })
          } else {
            const blockNumber = BigInt(receipt.blockNumber)
            const canonical = await pool.request<{ hash: string } | null>('eth_getBlockByNumber', [receipt.blockNumber, false], { signal: deadline })
            if (canonical?.hash !== receipt.blockHash) {
              report({ status: 'reorged', blockNumber, blockHash: receipt.blockHash })
            } else {
              const head = pool.referenceHead() ?? BigInt(await pool.request<string>('eth_blockNumber', [], { signal: deadline }))
              const confirmations = head >= blockNumber ? head - blockNumber + 1n : 1n
              if (last.status === 'mined' && last.blockHash !== receipt.blockHash) report({ status: 'reorged', blockNumber: last.blockNumber, blockHash: last.blockHash })
              report({ status: 'mined', blockNumber, blockHash: receipt.blockHash, confirmations, reverted: receipt.status === '0x0' })
              if (confirmations >= wanted) return receipt
            }
          }
          await sleep(pollInterval, { signal: deadline, clock })
        }
      },
      { timeout, signal, clock, controller, onTimeout: () => new TimeoutError('request', timeout) },
    )
  } catch (error) {
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
    if (isResilientRpcError(error, 'TIMEOUT') && error.scope === 'request' && error.timeout === timeout) {
      throw new ConfirmationTimeoutError(hash, wanted, last, { cause: error })
    }
    throw error
  } finally {
    pool.signal.removeEventListener('abort', onDestroyed)
  }
}
