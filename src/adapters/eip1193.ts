import type { EndpointStatus } from '../types/endpoint.js'
import { createFilterEmulator, type FilterOptions } from '../filters/filters.js'
import { duration, knownKeys, optionNames, optionsObject } from '../config/validate.js'
import { SafeEmitter } from '../util/emitter.js'
import { checkPool } from './poolArgument.js'
import type { Pool, RequestOptions } from '../pool/pool.js'
import { ProviderRpcError, toProviderRpcError } from './providerRpcError.js'
import { toQuantity } from '../util/hex.js'
import { createEip1193Subscriptions, type Eip1193Message } from './eip1193Subscriptions.js'

/** The events of an EIP-1193 provider. This one emits `connect`, `disconnect` and subscriptions' `message`s. */
export type Eip1193Events = {
  /** An endpoint of the pool came up after none was. */
  connect: [info: { chainId: string }]
  /** No endpoint of the pool is up any more (code 4900). Requests wait for one until their deadline. */
  disconnect: [error: ProviderRpcError]
  /** Never emitted: a pool serves one chain. */
  chainChanged: [chainId: string]
  /** Never emitted: a pool holds no accounts. */
  accountsChanged: [accounts: string[]]
  /** A notification of a subscription made with `eth_subscribe` (`newHeads`, `logs`). */
  message: [message: Eip1193Message]
}

export type Eip1193RequestArguments = {
  readonly method: string
  /** Positional params. By-name params (an object) are refused with -32602. */
  readonly params?: readonly unknown[] | object
}

/** An EIP-1193 provider, e.g. for viem's `custom()` transport. */
export type Eip1193Provider = {
  /**
   * Sends `method` through the pool (filter methods are emulated, see `createEip1193Provider`).
   * `options.signal` (viem passes one) cancels the request.
   * @throws `ProviderRpcError`: the node's code, message and data for a node's answer (a revert keeps
   * its data), else the mapped code (`PROVIDER_ERROR_CODES`) with `data: { code }` and `cause`
   */
  request(args: Eip1193RequestArguments, options?: { signal?: AbortSignal }): Promise<unknown>
  on<E extends keyof Eip1193Events>(event: E, listener: (...args: Eip1193Events[E]) => void): Eip1193Provider
  removeListener<E extends keyof Eip1193Events>(event: E, listener: (...args: Eip1193Events[E]) => void): Eip1193Provider
}

export type Eip1193ProviderOptions = {
  /** Deadline of each request, across all its attempts (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  /** Emulation of `eth_newFilter` & co. */
  filters?: FilterOptions
}

// Statuses of an endpoint that answered its heartbeat on the pool's chain: the provider is connected.
const CONNECTED: ReadonlySet<EndpointStatus> = new Set(['up', 'lagging', 'ahead', 'cooldown', 'unauthorized'])

type Listener = (...args: unknown[]) => void
/** The provider's events plus the `error` every SafeEmitter has (unused: each listener runs behind a guard). */
type ProviderEvents = Eip1193Events & { error: [error: unknown] }

/**
 * Creates an EIP-1193 provider over `pool.request`, so viem (`custom()` transport) and wallet libraries
 * can use the pool. It adds no logic of its own beyond mapping errors and emulating filters:
 * `eth_newFilter`, `eth_newBlockFilter`, `eth_getFilterChanges`, `eth_getFilterLogs` and
 * `eth_uninstallFilter` are answered from state kept in this provider (reads behind them go through the
 * pool), so a filter survives any failover; `eth_newPendingTransactionFilter` is refused with 4200.
 * `eth_subscribe` (`newHeads`, `logs`) rides `pool.subscribe` — pushed over a WebSocket endpoint when
 * one is up, polled otherwise, each item once across failovers — and notifications arrive as
 * `message` events. The pool stays the caller's: nothing here needs destroying.
 *
 * The pool already retries and fails over, so give viem `retryCount: 0`, or a deadline that passed
 * (-32603) is retried three more times.
 * @throws `INVALID_OPTION` for a bad `pool` or option
 * @example
 * const client = createPublicClient({ transport: custom(createEip1193Provider(pool), { retryCount: 0 }) })
 * const value = await client.readContract({ address, abi, functionName: 'value' })
 */
export function createEip1193Provider(pool: Pool, options: Eip1193ProviderOptions = {}): Eip1193Provider {
  checkPool(pool)
  optionsObject('options', options)
  knownKeys('', options, EIP1193_OPTIONS)
  const timeout = options.timeout === undefined ? undefined : duration('timeout', options.timeout, 0, false, true)
  const filters = createFilterEmulator(pool, options.filters)
  const emitter = new SafeEmitter<ProviderEvents>()
  // Listeners by event, like a Set: a listener added twice still hears each event once.
  const added = new Map<keyof Eip1193Events, Set<Listener>>()
  // What listeners threw during one emit: rethrown into the pool's emitter, the first becomes its `error` event.
  const thrown: unknown[] = []
  emitter.on('error', (error) => thrown.push(error))

  // connect / disconnect follow the pool's endpoint statuses, watched only while someone listens.
  const statuses = new Map<string, EndpointStatus>()
  let connected = false
  let chainId: bigint | undefined
  const emit = <E extends keyof Eip1193Events>(event: E, ...args: ProviderEvents[E]) => {
    thrown.length = 0
    emitter.emit(event, ...args)
    // Every listener ran; rethrown into the pool's emitter, the first throw becomes its `error` event.
    if (thrown.length > 0) throw thrown[0]
  }
  const onState = (e: { endpoint: string; to: EndpointStatus }) => {
    statuses.set(e.endpoint, e.to)
    const now = [...statuses.values()].some((s) => CONNECTED.has(s))
    if (now === connected) return
    connected = now
    if (now) {
      chainId ??= pool.stats().chainId
      emit('connect', { chainId: toQuantity(chainId ?? 0n) })
    } else {
      emit('disconnect', new ProviderRpcError(4900, 'Disconnected: no endpoint of the pool is up'))
    }
  }
  const watching = () => emitter.listenerCount('connect') + emitter.listenerCount('disconnect') > 0
  const subscriptions = createEip1193Subscriptions(pool, (message) => emit('message', message))

  const provider: Eip1193Provider = {
    async request(args, requestOptions) {
      if (typeof args !== 'object' || args === null || typeof args.method !== 'string' || args.method === '') {
        throw new ProviderRpcError(-32600, 'Invalid request: expected { method: string, params?: unknown[] }')
      }
      const params = args.params ?? []
      if (!Array.isArray(params)) throw new ProviderRpcError(-32602, 'Invalid params: expected an array (by-name params are not supported)')
      const opts: RequestOptions = { signal: requestOptions?.signal, timeout }
      try {
        if (subscriptions.handles(args.method)) return subscriptions.request(args.method, params)
        return await (filters.handles(args.method) ? filters.request(args.method, params, opts) : pool.request(args.method, params, opts))
      } catch (error) {
        throw toProviderRpcError(error)
      }
    },
    on(event, listener) {
      let set = added.get(event)
      if (!set) added.set(event, (set = new Set()))
      if (set.has(listener as unknown as Listener)) return provider
      set.add(listener as unknown as Listener)
      const wasWatching = watching()
      emitter.on(event, listener as (...args: ProviderEvents[typeof event]) => void)
      if (!wasWatching && watching()) {
        const stats = pool.stats()
        statuses.clear()
        for (const e of stats.endpoints) statuses.set(e.endpoint, e.status)
        connected = stats.endpoints.some((e) => CONNECTED.has(e.status))
        chainId = stats.chainId
        pool.on('endpoint:state', onState)
      }
      return provider
    },
    removeListener(event, listener) {
      if (added.get(event)?.delete(listener as unknown as Listener)) emitter.off(event, listener as (...args: ProviderEvents[typeof event]) => void)
      if (!watching()) pool.off('endpoint:state', onState)
      return provider
    },
  }
  return provider
}

const EIP1193_OPTIONS = optionNames<Eip1193ProviderOptions>({ timeout: true, filters: true })
