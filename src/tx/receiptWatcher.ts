import pRetry from 'p-retry'
import { InvalidResponseError } from '../errors/endpoint.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { TransactionState } from '../errors/contract.js'
import type { Pool } from '../pool/pool.js'
import type { Clock } from '../util/clock.js'
import { waitForTransaction, type TransactionReceipt } from './waitForTransaction.js'

export type WatchReceiptOptions = {
  /** Ends the watch (rejects with its reason), whatever it is doing. */
  signal: AbortSignal
  /** Time between receipt polls, and before starting over after a failure (ms). */
  pollInterval: number
  /** The polls' clock; the wait before starting over is p-retry's, on the global timers. */
  clock: Clock
  /** Let the wait before starting over not keep a Node process alive. */
  unref: boolean
  /** Every state waitForTransaction reports, across restarts. */
  onState: (state: TransactionState) => void
}

/**
 * Follows a transaction's receipt with waitForTransaction until it is `confirmations` deep, and
 * resolves with the receipt and the depth last reported. Whenever the pool fails the wait (every
 * endpoint down, a malformed answer) it starts over after `pollInterval`, for as long as `signal`
 * lets it: there is no giving up on a transaction the outbox keeps alive. p-retry drives these restarts
 * and does the waiting between them.
 * @throws `POOL_DESTROYED` (a destroyed pool never comes back), or `signal.reason`
 */
export async function watchReceipt(pool: Pool, tx: { hash: string; confirmations: number }, options: WatchReceiptOptions): Promise<{ receipt: TransactionReceipt; confirmations: bigint }> {
  const { signal, pollInterval, clock, unref, onState } = options
  let depth = BigInt(tx.confirmations)
  const follow = () =>
    waitForTransaction(pool, tx.hash, {
      confirmations: tx.confirmations,
      timeout: Infinity,
      signal,
      pollInterval,
      clock,
      onState: (state) => {
        if (state.status === 'mined') depth = state.confirmations
        onState(state)
      },
    }).catch((error: unknown) => {
      // p-retry takes a TypeError for a programming error and stops. Here it comes from one node's
      // malformed receipt (BigInt of a missing field), and the next poll may reach another node.
      throw error instanceof TypeError ? new InvalidResponseError('unreadable transaction receipt', { cause: error }) : error
    })
  const receipt = await pRetry(follow, {
    retries: Infinity,
    minTimeout: pollInterval,
    factor: 1,
    randomize: false,
    unref,
    signal,
    shouldRetry: ({ error }) => !isResilientRpcError(error, 'POOL_DESTROYED'),
  })
  return { receipt, confirmations: depth }
}
