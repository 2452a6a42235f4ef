import { keccak256 } from 'ethers'
import { AbortedError, TimeoutError } from '../errors/request.js'
import { isResilientRpcError } from '../errors/guard.js'
import { TransactionRejectedError } from '../errors/contract.js'
import type { ResilientRpcError } from '../errors/base.js'
import { isAlreadyKnownMessage, isNonceTooLowMessage } from '../errors/providerMessages.js'
import { duration, knownKeys, oneOf, optionNames, optionalFunction, optionalSignal, optionsObject } from '../config/validate.js'
import { waitAtMost } from '../policy/timeout.js'
import type { Pool } from '../pool/pool.js'
import { createAbortController } from '../util/abort.js'
import { systemClock, timerDelay, type TimerHandle } from '../util/clock.js'
import { checkSignedBytes } from './signedTransaction.js'

export type SendRawTransactionOptions = {
  /** Send to every endpoint that can take it (`'all'`), or through the pool's normal routing (`'one'`). @default 'all' */
  broadcast?: 'all' | 'one'
  /**
   * Deadline of the whole send (ms); the broadcasts still in flight after it resolved stay under it too.
   * @default none: each request has the pool's `defaultTimeout`
   */
  timeout?: number
  /** Aborts the send, and the broadcasts still in flight after it resolved. */
  signal?: AbortSignal
  /**
   * Called once for each endpoint that accepts the transaction ("already known" counts as accepted),
   * including those that answer after the promise resolved, until `timeout` or `signal` ends them.
   * The acceptance that resolves the send is reported before the promise resolves. `endpoint` is the
   * endpoint's id (its `name`, else `scheme://host:port#index`), or `undefined` for an acceptance
   * through the pool's routing (`broadcast: 'one'`, or the second round after unreachable endpoints),
   * which does not say which endpoint answered. Not called when the send resolves only because a
   * "nonce too low" endpoint knows the hash (nothing accepted these bytes this time). It observes:
   * a throw from it is ignored and never changes the send.
   */
  onAccepted?: (acceptance: { endpoint: string | undefined }) => void
}

/**
 * Broadcasts a signed transaction and resolves with its hash — computed locally from the signed bytes —
 * as soon as one endpoint accepts it. "Already known" counts as accepted, and "nonce too low" does
 * when some endpoint knows the transaction by its hash (an earlier broadcast of the same bytes landed).
 * The other endpoints' answers keep coming after it resolves: `onAccepted` hears each acceptance.
 * Signing stays with the caller; the same bytes can be sent again later, safely.
 * @throws `TX_REJECTED` when every endpoint refused it (listing each answer), `TIMEOUT`, `ABORTED`, `NO_ENDPOINT`, `INVALID_OPTION`
 * @example
 * const signed = await wallet.signTransaction({ to, value, nonce, gasLimit: 21_000n, chainId: 1n, ... })
 * const hash = await sendRawTransaction(pool, signed, {
 *   onAccepted: ({ endpoint }) => console.log('accepted by', endpoint ?? 'an endpoint the routing chose'),
 * })
 */
export async function sendRawTransaction(pool: Pool, signedTransaction: string, options: SendRawTransactionOptions = {}): Promise<string> {
  optionsObject('options', options)
  knownKeys('', options, SEND_RAW_OPTIONS)
  checkSignedBytes(signedTransaction)
  const broadcast = oneOf('broadcast', options.broadcast, 'all', ['all', 'one'])
  const timeout = duration('timeout', options.timeout, Infinity, false, true)
  const signal = optionalSignal('signal', options.signal)
  const onAccepted = optionalFunction('onAccepted', options.onAccepted)
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
  const accepted = (endpoint: string | undefined) => {
    try {
      onAccepted?.({ endpoint })
    } catch {
      // An observer's bug must not turn an accepted transaction into a failed send.
    }
  }
  const deadline = new SendDeadline(timeout, signal)
  try {
    // Settles as soon as the deadline ends, whatever is still in flight.
    return await waitAtMost(send(pool, signedTransaction, broadcast, deadline, accepted), {
      timeout: Infinity,
      signal: deadline.signal,
      onTimeout: () => new TimeoutError('request', timeout),
    })
  } catch (error) {
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
    throw error
  } finally {
    deadline.release()
  }
}

/**
 * One signal for every request of a send: aborted by the caller's signal or at `timeout`. The call and
 * each broadcast hold it and the last to settle lets it go (timer and listener), because broadcasts
 * still in flight after the first acceptance report to `onAccepted`: they stay the caller's to bound.
 */
class SendDeadline {
  readonly #controller = createAbortController()
  readonly signal = this.#controller.signal
  readonly #parent: AbortSignal | undefined
  #timer: TimerHandle | undefined
  #holders = 1

  constructor(timeout: number, parent: AbortSignal | undefined) {
    this.#parent = parent
    parent?.addEventListener('abort', this.#onAbort, { once: true })
    if (timeout !== Infinity) this.#timer = systemClock.setTimeout(() => this.#controller.abort(new TimeoutError('request', timeout)), timerDelay(timeout))
  }

  readonly #onAbort = () => this.#controller.abort(this.#parent!.reason)

  hold(): void {
    this.#holders++
  }

  readonly release = (): void => {
    if (--this.#holders > 0) return
    if (this.#timer !== undefined) systemClock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#parent?.removeEventListener('abort', this.#onAbort)
  }
}

async function send(pool: Pool, signedTransaction: string, broadcast: 'all' | 'one', deadline: SendDeadline, accepted: (endpoint: string | undefined) => void): Promise<string> {
  const hash = keccak256(signedTransaction)
  const { signal } = deadline
  const params = [signedTransaction]
  const sends = broadcast === 'one' ? [] : pool.requestEach<string>('eth_sendRawTransaction', params, { signal })
  // Nothing can take it this instant (or one was asked for): the pool's routing waits and retries.
  const routed = sends.length === 0
  const attempts = routed ? [{ endpoint: 'pool', result: pool.request<string>('eth_sendRawTransaction', params, { signal }) }] : sends

  const rejections: { endpoint: string; error: ResilientRpcError }[] = []
  let nonceTooLow = false
  await new Promise<void>((resolve) => {
    let pending = attempts.length
    let done = false
    const settle = () => {
      if (!done) (done = true), resolve()
    }
    for (const { endpoint, result } of attempts) {
      const id = routed ? undefined : endpoint
      deadline.hold()
      result
        .then(
          () => {
            accepted(id)
            settle()
          },
          (error: ResilientRpcError) => {
            const message = isResilientRpcError(error, 'RPC_ERROR') ? error.rpcMessage : ''
            if (isAlreadyKnownMessage(message)) {
              accepted(id)
              return settle()
            }
            if (isNonceTooLowMessage(message)) nonceTooLow = true
            rejections.push({ endpoint, error })
            if (--pending === 0) settle()
          },
        )
        .finally(deadline.release)
    }
  })
  if (rejections.length < attempts.length) return hash
  if (signal.aborted) throw new AbortedError({ cause: signal.reason })
  if (nonceTooLow && (await knownByHash(pool, hash, signal))) return hash
  if (rejections.every(({ error }) => isResilientRpcError(error, 'RPC_ERROR'))) throw new TransactionRejectedError(hash, rejections)
  if (routed) throw rejections[0]!.error
  // Some endpoints could not be reached: once more through the pool's routing (retries, failover, waits).
  try {
    await pool.request('eth_sendRawTransaction', params, { signal })
    accepted(undefined)
    return hash
  } catch (error) {
    const message = isResilientRpcError(error, 'RPC_ERROR') ? error.rpcMessage : ''
    if (isAlreadyKnownMessage(message)) {
      accepted(undefined)
      return hash
    }
    if (isNonceTooLowMessage(message) && (await knownByHash(pool, hash, signal))) return hash
    throw error
  }
}

async function knownByHash(pool: Pool, hash: string, signal: AbortSignal): Promise<boolean> {
  const known = await pool.request<unknown>('eth_getTransactionByHash', [hash], { signal }).catch(() => null)
  return known !== null && known !== undefined
}

const SEND_RAW_OPTIONS = optionNames<SendRawTransactionOptions>({ broadcast: true, timeout: true, signal: true, onAccepted: true })
