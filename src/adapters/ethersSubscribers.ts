import type { EventFilter, JsonRpcApiProvider, Log, Network, Subscriber } from 'ethers'
import type { Pool } from '../pool/pool.js'
import type { LogFilter, RpcLog } from '../subscriptions/logs.js'

/** What a subscriber needs from the ethers provider it serves. */
export type SubscriberHost = Pick<JsonRpcApiProvider, 'emit' | 'getNetwork' | '_wrapLog'>

/**
 * ethers' `block` event from `pool.subscribe('newHeads')`: pushed over a WebSocket endpoint when one
 * is up, else polled by the pool every `pollInterval` — instead of ethers polling `eth_blockNumber`.
 * Block numbers only go up, as ethers' own poller has them: a reorg's replacement heads, delivered by
 * the pool, repeat numbers already emitted and are not emitted again.
 */
export class PoolBlockSubscriber implements Subscriber {
  readonly #pool: Pool
  readonly #provider: SubscriberHost
  readonly #pollInterval: number
  #stop: (() => void) | undefined
  #last = -1

  constructor(pool: Pool, provider: SubscriberHost, pollInterval: number) {
    this.#pool = pool
    this.#provider = provider
    this.#pollInterval = pollInterval
  }

  start(): void {
    if (this.#stop) return
    this.#stop = this.#pool.subscribe(
      'newHeads',
      (head) => {
        const number = Number(BigInt(head.number))
        if (number <= this.#last) return
        this.#last = number
        void this.#provider.emit('block', number)
      },
      { pollInterval: this.#pollInterval },
    )
  }

  stop(): void {
    this.#stop?.()
    this.#stop = undefined
  }

  pause(dropWhilePaused?: boolean): void {
    this.stop()
    // Resumed without the blocks of the pause: the next head is the first one emitted.
    if (dropWhilePaused) this.#last = -1
  }

  resume(): void {
    this.start()
  }
}

/**
 * ethers' event subscriptions (`contract.on`, `provider.on(filter)`) from `pool.subscribe('logs')`:
 * each log once, in chain order, across failovers; a log that left the chain is emitted again with
 * `removed: true`, as a node's subscription sends it.
 */
export class PoolEventSubscriber implements Subscriber {
  readonly #pool: Pool
  readonly #provider: SubscriberHost
  readonly #filter: EventFilter
  readonly #pollInterval: number
  #stop: (() => void) | undefined

  constructor(pool: Pool, provider: SubscriberHost, filter: EventFilter, pollInterval: number) {
    this.#pool = pool
    this.#provider = provider
    this.#filter = filter
    this.#pollInterval = pollInterval
  }

  start(): void {
    if (this.#stop) return
    let network: Network | undefined
    let stopped = false
    // Logs are wrapped for the provider's network, known before the first one arrives (a static one at
    // once). Without it (the provider destroyed first) there is nobody to emit to: never a stray rejection.
    const networkKnown = this.#provider.getNetwork().then(
      (n) => (network = n),
      () => undefined,
    )
    const emit = (log: RpcLog) => {
      // A log that waited for the network is not emitted once the subscriber has stopped.
      const send = () => void (!stopped && network && this.#provider.emit(this.#filter, this.#provider._wrapLog(log as never, network) as Log))
      if (network) send()
      else void networkKnown.then(send)
    }
    const end = this.#pool.subscribe('logs', toLogFilter(this.#filter), emit, {
      pollInterval: this.#pollInterval,
      onRemoved: (log) => emit({ ...log, removed: true }),
    })
    this.#stop = () => {
      stopped = true
      end()
    }
  }

  stop(): void {
    this.#stop?.()
    this.#stop = undefined
  }

  pause(): void {
    this.stop()
  }

  resume(): void {
    this.start()
  }
}

/** An ethers event filter as the pool's log filter takes it (address and topics only: no range). */
function toLogFilter(filter: EventFilter): LogFilter {
  return {
    ...(filter.address === undefined ? {} : { address: filter.address as string | string[] }),
    ...(filter.topics === undefined ? {} : { topics: filter.topics as LogFilter['topics'] }),
  }
}
