import { knownKeys, optionalSignal, optionNames } from '../config/validate.js'
import { notificationBlock } from '../balancer/answerBlock.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { PoolDestroyedError } from '../errors/request.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import { createSubscription, type HeadsSubscribeOptions, type LogFilter, type LogsSubscribeOptions, type PushEndpoint, type SubscriptionHost } from '../subscriptions/subscription.js'
import { show } from '../util/show.js'
import type { PoolCore } from './core.js'
import type { Statuses } from './statuses.js'

/**
 * The pool's live subscriptions (`pool.subscribe`): each gets a narrow host — requests through the
 * pool, the WebSocket endpoints that are up, status changes — and never touches an endpoint itself.
 * `destroy()` ends every one of them.
 */
export class Subscriptions {
  readonly #core: PoolCore
  readonly #statuses: Statuses
  readonly #request: (method: string, params: readonly unknown[], signal: AbortSignal) => Promise<unknown>
  /** Live subscriptions, by id. */
  readonly #live = new Map<number, () => void>()
  #nextId = 1

  constructor(core: PoolCore, statuses: Statuses, request: (method: string, params: readonly unknown[], signal: AbortSignal) => Promise<unknown>) {
    this.#core = core
    this.#statuses = statuses
    this.#request = request
  }

  /** @throws `POOL_DESTROYED`, `INVALID_OPTION` (synchronously) */
  subscribe(kind: 'newHeads' | 'logs', args: readonly unknown[]): () => void {
    if (this.#core.lifetime.aborted) throw new PoolDestroyedError()
    if (kind !== 'newHeads' && kind !== 'logs') throw new InvalidOptionError('kind', `expected 'newHeads' or 'logs', got ${show(kind)}`)
    const [filter, listener, given] = kind === 'logs' ? args : [undefined, ...args]
    const options = (given ?? {}) as HeadsSubscribeOptions
    if (typeof options !== 'object') throw new InvalidOptionError('options', 'expected an object')
    knownKeys('', options, kind === 'logs' ? LOGS_OPTIONS : HEADS_OPTIONS)
    const signal = optionalSignal('signal', options.signal)
    if (kind === 'logs' && (typeof filter !== 'object' || filter === null)) throw new InvalidOptionError('filter', 'expected a log filter object')
    // A misspelt key would widen the filter to every log; a block range has no place in a subscription.
    if (kind === 'logs') knownKeys('filter', filter as object, LOG_FILTER_KEYS)
    const id = this.#nextId++
    const end = createSubscription(this.#host(id), id, kind, filter as LogFilter | undefined, listener as (item: never) => void, options)
    const unsubscribe = () => {
      this.#live.delete(id)
      signal?.removeEventListener('abort', unsubscribe)
      end()
    }
    if (signal?.aborted) return unsubscribe
    this.#live.set(id, unsubscribe)
    signal?.addEventListener('abort', unsubscribe, { once: true })
    return unsubscribe
  }

  /** Ends every subscription (the pool's destroy). */
  endAll(): void {
    for (const end of [...this.#live.values()]) end()
  }

  #host(id: number): SubscriptionHost {
    const core = this.#core
    return {
      request: this.#request,
      webSockets: () =>
        core.endpoints
          .filter((e) => e.view.status === 'up' && pushEndpoint(e) !== undefined)
          .sort((a, b) => (a.view.tier === b.view.tier ? (a.view.latencyEwma ?? Infinity) - (b.view.latencyEwma ?? Infinity) : a.view.tier === 'primary' ? -1 : 1))
          .map((e) => ({ id: e.id, transport: this.#headsFrom(e, pushEndpoint(e)!) })),
      onChange: (listener) => this.#statuses.onChange(listener),
      sourceChanged: (_id, source) => core.events.emit('subscription:source', { id, ...source }),
      error: (error) => core.events.emit('error', error),
      clock: core.clock,
    }
  }

  /** `transport`, whose notifications also tell the pool the endpoint's head: a head it pushed is a block it has. */
  #headsFrom(endpoint: Endpoint, transport: PushEndpoint): PushEndpoint {
    return {
      subscribe: (params, onMessage, options) =>
        transport.subscribe(
          params,
          (result) => {
            const block = notificationBlock(params[0], result)
            if (block !== undefined) this.#statuses.sawHead(endpoint, block)
            onMessage(result)
          },
          options,
        ),
    }
  }
}

/** The endpoint's transport when it can push (a WebSocket), else `undefined`. */
function pushEndpoint(e: Endpoint): PushEndpoint | undefined {
  const transport = e.transport as Partial<PushEndpoint>
  return typeof transport.subscribe === 'function' ? (transport as PushEndpoint) : undefined
}

const HEADS_OPTIONS = optionNames<HeadsSubscribeOptions>({ signal: true, maxBackfill: true, pollInterval: true, onGap: true, onError: true, onReorg: true })
const LOG_FILTER_KEYS = optionNames<LogFilter>({ address: true, topics: true })
const LOGS_OPTIONS = optionNames<LogsSubscribeOptions>({ signal: true, maxBackfill: true, pollInterval: true, onGap: true, onError: true, onRemoved: true })
