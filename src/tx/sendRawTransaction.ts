import { keccak256 } from 'ethers'
import { AbortedError } from '../errors/request.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import { TransactionRejectedError } from '../errors/contract.js'
import type { ResilientRpcError } from '../errors/base.js'
import { withDeadline } from '../policy/timeout.js'
import type { Pool } from '../pool/pool.js'
import { HEX_BYTES } from '../util/hex.js'
import { isAlreadyKnownMessage, isNonceTooLowMessage } from '../errors/providerMessages.js'

export type SendRawTransactionOptions = {
  /** Send to every endpoint that can take it (`'all'`), or through the pool's normal routing (`'one'`). @default 'all' */
  broadcast?: 'all' | 'one'
  /** Deadline (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  signal?: AbortSignal
}


/**
 * Broadcasts a signed transaction and resolves with its hash — computed locally from the signed bytes —
 * as soon as one endpoint accepts it. "Already known" counts as accepted, and "nonce too low" does
 * when some endpoint knows the transaction by its hash (an earlier broadcast of the same bytes landed).
 * Signing stays with the caller; the same bytes can be sent again later, safely.
 * @throws `TX_REJECTED` when every endpoint refused it (listing each answer), `TIMEOUT`, `ABORTED`, `NO_ENDPOINT`, `INVALID_OPTION`
 * @example
 * const signed = await wallet.signTransaction({ to, value, nonce, gasLimit: 21_000n, chainId: 1n, ... })
 * const hash = await sendRawTransaction(pool, signed)
 */
export async function sendRawTransaction(pool: Pool, signedTransaction: string, options: SendRawTransactionOptions = {}): Promise<string> {
  if (typeof signedTransaction !== 'string' || !HEX_BYTES.test(signedTransaction)) {
    throw new InvalidOptionError('signedTransaction', 'expected the signed transaction as 0x-prefixed hex bytes')
  }
  // One deadline for the broadcast, the fallback round and the lookup by hash together.
  return withDeadline((deadline) => send(pool, signedTransaction, options.broadcast ?? 'all', deadline), { timeout: options.timeout, signal: options.signal })
}

async function send(pool: Pool, signedTransaction: string, broadcast: 'all' | 'one', deadline: AbortSignal): Promise<string> {
  const hash = keccak256(signedTransaction)
  const signal = deadline
  const timeout = undefined
  const params = [signedTransaction]
  const sends = broadcast === 'one' ? [] : pool.requestEach<string>('eth_sendRawTransaction', params, { signal, timeout })
  // Nothing can take it this instant (or one was asked for): the pool's routing waits and retries.
  const attempts = sends.length > 0 ? sends : [{ endpoint: 'pool', result: pool.request<string>('eth_sendRawTransaction', params, { signal, timeout }) }]

  const rejections: { endpoint: string; error: ResilientRpcError }[] = []
  let nonceTooLow = false
  await new Promise<void>((resolve) => {
    let pending = attempts.length
    let done = false
    for (const { endpoint, result } of attempts) {
      result.then(
        () => {
          if (!done) (done = true), resolve()
        },
        (error: ResilientRpcError) => {
          const message = isResilientRpcError(error, 'RPC_ERROR') ? error.rpcMessage : ''
          if (isAlreadyKnownMessage(message)) {
            if (!done) (done = true), resolve()
            return
          }
          if (isNonceTooLowMessage(message)) nonceTooLow = true
          rejections.push({ endpoint, error })
          if (--pending === 0 && !done) (done = true), resolve()
        },
      )
    }
  })
  if (rejections.length < attempts.length) return hash
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
  if (nonceTooLow && (await knownByHash(pool, hash, signal))) return hash
  if (rejections.every(({ error }) => isResilientRpcError(error, 'RPC_ERROR'))) throw new TransactionRejectedError(hash, rejections)
  if (sends.length === 0) throw rejections[0]!.error
  // Some endpoints could not be reached: once more through the pool's routing (retries, failover, waits).
  try {
    await pool.request('eth_sendRawTransaction', params, { signal, timeout })
    return hash
  } catch (error) {
    const message = isResilientRpcError(error, 'RPC_ERROR') ? error.rpcMessage : ''
    if (isAlreadyKnownMessage(message) || (isNonceTooLowMessage(message) && (await knownByHash(pool, hash, signal)))) return hash
    throw error
  }
}

async function knownByHash(pool: Pool, hash: string, signal: AbortSignal): Promise<boolean> {
  const known = await pool.request<unknown>('eth_getTransactionByHash', [hash], { signal }).catch(() => null)
  return known !== null && known !== undefined
}
