import { duration, knownKeys, optionalSignal, optionNames, optionsObject } from '../config/validate.js'
import type { ResilientRpcError } from '../errors/base.js'
import { AbortedError } from '../errors/request.js'
import { BlockTime } from '../health/blockTime.js'
import { waitAtMost, withDeadline } from '../policy/timeout.js'
import type { Clock } from '../util/clock.js'
import { isQuantity } from '../util/hex.js'
import type { BroadcastResult } from './broadcast.js'
import type { RequestOptions } from './call.js'

export type FreshHeadOptions = {
  /**
   * How long ago the pool's confirmed head may have been confirmed and still be returned without
   * asking the endpoints (ms): it is returned when confirmed less than `maxAge` ago. `0` always asks.
   * @default the chain's time per block as the pool measured it (the shortest of its recent
   * advances); `0` until the confirmed head has advanced twice
   */
  maxAge?: number
  /** Cancels the wait, and the round once nobody else waits for it. */
  signal?: AbortSignal
  /** Deadline (ms). @default the pool's `defaultTimeout` */
  timeout?: number
}

const FRESH_HEAD_OPTIONS = optionNames<FreshHeadOptions>({ maxAge: true, signal: true, timeout: true })

/** A head the evidence confirms, and when (clock ms) it was last confirmed. */
export type ConfirmedHead = { readonly head: bigint; readonly at: number }

/** What fresh heads need of the pool: a narrow view, so that the round stays out of the request path's internals. */
export type FreshHeadHost = {
  /** The pool's clock (time, and the deadline's timer). */
  readonly clock: Clock
  readonly defaultTimeout: number
  /** How long one endpoint may take to answer a round's `eth_blockNumber` (ms). */
  readonly roundTimeout: number
  /** The heartbeats' view of the chain, `undefined` without heartbeats. */
  readonly health: { readonly confirmed: ConfirmedHead | undefined; readonly blockTime: number | undefined } | undefined
  /** The pool's read floor. */
  readonly floor: { readonly value: bigint | undefined; raise(block: bigint): void }
  /** Why the pool serves nothing now (destroyed, chain in doubt), or `undefined`. */
  refused(): ResilientRpcError | undefined
  /** `eth_blockNumber` once to every endpoint that can take it now (`pool.requestEach`). */
  each(options: RequestOptions): Array<BroadcastResult<string>>
  /** `eth_blockNumber` through the ordinary request path (`pool.request`): never below the read floor. */
  request(options: RequestOptions): Promise<string>
}

/** One shared `eth_blockNumber` round: its outcome is the head it confirmed, `undefined` if nobody answered. */
type Round = { readonly promise: Promise<bigint | undefined>; readonly controller: AbortController; waiting: number; settled: boolean }

/**
 * `pool.freshHead()`: the pool's confirmed head if it was confirmed within `maxAge`, else the head one
 * round of `eth_blockNumber` to every endpoint that can take it confirms. Concurrent callers share
 * one round. One per pool.
 */
export class FreshHeads {
  readonly #host: FreshHeadHost
  #round: Round | undefined
  /** Without heartbeats, the pool's only confirmations are its rounds': the last one's, and their pace. */
  #own: ConfirmedHead | undefined
  readonly #ownBlockTime = new BlockTime()

  constructor(host: FreshHeadHost) {
    this.#host = host
  }

  /** @throws `TIMEOUT`, `ABORTED`, `POOL_DESTROYED`, `CHAIN_MISMATCH`, `INVALID_OPTION`, or the pool's request errors when no endpoint answered the round */
  async get(options: FreshHeadOptions = {}): Promise<bigint> {
    const host = this.#host
    const refused = host.refused()
    if (refused) throw refused
    optionsObject('options', options)
    knownKeys('', options, FRESH_HEAD_OPTIONS)
    const signal = optionalSignal('signal', options.signal)
    const timeout = duration('timeout', options.timeout, host.defaultTimeout, false, true)
    const maxAge = duration('maxAge', options.maxAge, this.#blockTime() ?? 0, true, true)
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason })
    const confirmed = host.health ? host.health.confirmed : this.#own
    // Strictly younger: `maxAge: 0` always asks (a head learned this very moment, from a receipt's
    // block, say, is a lower bound on the chain's head, not the head).
    if (confirmed !== undefined && host.clock.now() - confirmed.at < maxAge) return this.#atFloor(confirmed.head)
    const round = this.#join()
    try {
      return await withDeadline(
        async (deadline) => {
          const head = await waitAtMost(round.promise, { timeout: Infinity, signal: deadline, onTimeout: () => new AbortedError() })
          if (head !== undefined) return this.#atFloor(head)
          // Nobody answered the round (none could take it now, or all failed): the ordinary path waits
          // for an endpoint, retries, and fails with the pool's typed errors; its answer is the pool's head.
          return BigInt(await host.request({ signal: deadline, timeout: Infinity }))
        },
        { timeout, signal, clock: host.clock },
      )
    } finally {
      this.#leave(round)
    }
  }

  #blockTime(): number | undefined {
    return this.#host.health ? this.#host.health.blockTime : this.#ownBlockTime.value
  }

  /** Never below the read floor, and what is returned raises it, as an `eth_blockNumber` answer does. */
  #atFloor(head: bigint): bigint {
    const floor = this.#host.floor.value
    const fresh = floor !== undefined && floor > head ? floor : head
    this.#host.floor.raise(fresh)
    return fresh
  }

  #join(): Round {
    let round = this.#round
    if (round === undefined) {
      round = this.#start()
      // A round settled at once (nobody to ask) is nobody else's to join.
      if (!round.settled) this.#round = round
    }
    round.waiting++
    return round
  }

  /** The last caller gone before the round settled: its requests are for nobody any more. */
  #leave(round: Round): void {
    if (--round.waiting > 0 || round.settled) return
    if (this.#round === round) this.#round = undefined
    round.controller.abort(new AbortedError({ details: 'nobody waits for the fresh head any more' }))
  }

  /**
   * Asks every endpoint that can take it now at once, and settles as soon as the answers confirm a
   * head nothing still pending could raise:
   * 1. the highest height two answers reach (the second highest answer) is confirmed, as two
   *    endpoints vouch for the reference head; with one endpoint asked, or one left answering (the
   *    others failed), its answer;
   * 2. once the two highest answers agree, a later answer cannot confirm more: settle then;
   * 3. otherwise when every endpoint asked has answered or failed (each within `roundTimeout`).
   * Every answer also moves its endpoint's known head (the request path learns from it), and with it
   * the heartbeats' confirmed head.
   */
  #start(): Round {
    const host = this.#host
    const controller = new AbortController()
    let settle!: (head: bigint | undefined) => void
    const promise = new Promise<bigint | undefined>((resolve) => (settle = resolve))
    const round: Round = { promise, controller, waiting: 0, settled: false }
    const done = (head: bigint | undefined) => {
      if (round.settled) return
      round.settled = true
      if (this.#round === round) this.#round = undefined
      if (head !== undefined && !host.health) {
        const now = host.clock.now()
        this.#own = { head, at: now }
        this.#ownBlockTime.observe(head, now)
      }
      settle(head)
    }
    const copies = host.each({ signal: controller.signal, timeout: host.roundTimeout, attemptTimeout: host.roundTimeout })
    const asked = copies.length
    if (asked === 0) {
      done(undefined)
      return round
    }
    // Highest first; a short list (one entry per endpoint).
    const answers: bigint[] = []
    let failed = 0
    const check = () => {
      if (answers.length >= 2 && answers[0] === answers[1]) return done(answers[0])
      if (answers.length + failed < asked) return
      done(answers.length >= 2 ? answers[1] : answers[0])
    }
    for (const { result } of copies) {
      result.then(
        (value) => {
          if (isQuantity(value)) {
            const head = BigInt(value)
            let i = 0
            while (i < answers.length && answers[i]! > head) i++
            answers.splice(i, 0, head)
          } else {
            failed++
          }
          check()
        },
        () => {
          failed++
          check()
        },
      )
    }
    return round
  }
}
