import {
  JsonRpcApiProvider,
  makeError,
  Network,
  UnmanagedSubscriber,
  type JsonRpcApiProviderOptions,
  type JsonRpcError,
  type JsonRpcPayload,
  type JsonRpcResult,
  type Subscriber,
  type Subscription,
} from 'ethers'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import { createFilterEmulator, type FilterEmulator, type FilterOptions } from '../filters/filters.js'
import { bigInteger, boolean, duration, integer, knownKeys, optionNames, optionsObject } from '../config/validate.js'
import { checkPool } from './poolArgument.js'
import { PoolBlockSubscriber, PoolEventSubscriber } from './ethersSubscribers.js'
import type { Pool } from '../pool/pool.js'

export type EthersProviderOptions = {
  /**
   * The chain the provider reports, fixed for its life (ethers then never probes it again).
   * @default the pool's (`pool.stats().chainId`), else one `eth_chainId` at first use
   */
  chainId?: number | bigint
  /**
   * How often blocks and events are polled when no WebSocket endpoint is up (the pool's subscriptions
   * push them when one is), which drives events and `waitForTransaction` (ms). @default 4_000
   */
  pollingInterval?: number
  /** Deadline of each request, across all its attempts (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  /** Emulation of `eth_newFilter` & co., which `contract.on` uses. */
  filters?: FilterOptions
  /**
   * ethers' own provider options that the adapter passes on: `polling` (poll for events even where
   * ethers would subscribe) and `cacheTimeout` (ms ethers answers an identical request from memory;
   * the adapter's default is -1, none). Its other options are the adapter's to set (`staticNetwork`,
   * the `batch*` ones, and `pollingInterval`, above): giving them is `INVALID_OPTION`. @default {}
   */
  ethers?: { polling?: boolean; cacheTimeout?: number }
}

/**
 * Creates an ethers v6 provider backed by the pool: `new Contract(address, abi, provider)`, `Wallet`,
 * `getLogs`, `waitForTransaction` and `contract.on` work as with a `JsonRpcProvider`, with the pool's
 * balancing, deadlines and failover underneath. Requests go one by one (no JSON-RPC batches: the pool
 * balances single requests). Errors keep ethers' shapes: a node's answer is handed to ethers as the
 * JSON-RPC error it was, so a revert is a `CALL_EXCEPTION` with its reason, custom error or panic
 * decoded; a pool failure becomes `TIMEOUT` (deadline), `CANCELLED`, `INVALID_ARGUMENT`,
 * `UNSUPPORTED_OPERATION` (pool destroyed) or `SERVER_ERROR` (anything else), each with `cause` and
 * `error` set to the pool's `ResilientRpcError` and `info.code` to its code.
 *
 * `block` events and event subscriptions (`contract.on`, `provider.on(filter)`) ride `pool.subscribe`:
 * pushed over a WebSocket endpoint when one is up, polled by the pool every `pollingInterval` otherwise,
 * each block and log once across failovers. Filter methods never reach a node: the adapter emulates
 * them over block-pinned `eth_getLogs` reads.
 *
 * `provider.destroy()` stops ethers' polling and cancels this provider's requests; the pool stays the
 * caller's. Once the pool is destroyed, so is the provider.
 * @throws `INVALID_OPTION` for a bad `pool` or option
 * @example
 * const provider = createEthersProvider(pool)
 * const counter = new Contract(address, abi, provider)
 * const value = await counter.value()
 */
export function createEthersProvider(pool: Pool, options: EthersProviderOptions = {}): JsonRpcApiProvider {
  checkPool(pool)
  optionsObject('options', options)
  knownKeys('', options, ETHERS_OPTIONS)
  const ethers = ethersOptions(options.ethers)
  return new PoolProvider(pool, {
    ethers,
    chainId: options.chainId === undefined ? pool.stats().chainId : bigInteger('chainId', options.chainId, false),
    pollingInterval: duration('pollingInterval', options.pollingInterval, 4_000),
    timeout: options.timeout === undefined ? undefined : duration('timeout', options.timeout, 0, false, true),
    filters: createFilterEmulator(pool, options.filters),
  })
}

type Resolved = {
  chainId: bigint | undefined
  pollingInterval: number
  timeout: number | undefined
  filters: FilterEmulator
  ethers: EthersPassedOn
}

type EthersPassedOn = NonNullable<EthersProviderOptions['ethers']>

const destroyedError = (method: string) => makeError('provider destroyed; cancelled request', 'UNSUPPORTED_OPERATION', { operation: method })
const poolDestroyedError = (method: string) => makeError('pool destroyed; cancelled request', 'UNSUPPORTED_OPERATION', { operation: method, info: { code: 'POOL_DESTROYED' } })

class PoolProvider extends JsonRpcApiProvider {
  readonly #pool: Pool
  readonly #filters: FilterEmulator
  readonly #timeout: number | undefined
  /** The caller asked ethers to poll (`ethers.polling`): its own pollers, not the pool's subscriptions. */
  readonly #polling: boolean
  /** Destroys this provider with the pool: its subscribers then stop with the pool's subscriptions. */
  readonly #onPoolDestroyed = () => this.destroy()
  /** One controller per request in flight, so `destroy()` cancels them without a long-lived signal. */
  readonly #active = new Set<AbortController>()

  constructor(pool: Pool, options: Resolved) {
    const network = options.chainId === undefined ? undefined : Network.from(options.chainId)
    // A static network: ethers otherwise asks for the chain id alongside every request. No cache of
    // ethers' own: it answers an identical request from memory for 250 ms, so a balance read right
    // after a transfer was mined came back stale; the pool already shares identical reads in flight.
    super(network, { staticNetwork: network ?? true, batchMaxCount: 1, pollingInterval: options.pollingInterval, cacheTimeout: options.ethers.cacheTimeout ?? -1, polling: options.ethers.polling })
    this.#pool = pool
    this.#filters = options.filters
    this.#timeout = options.timeout
    this.#polling = options.ethers.polling === true
    pool.signal.addEventListener('abort', this.#onPoolDestroyed, { once: true })
  }

  // As ethers' JsonRpcProvider does: start on first use, so creating a provider sends nothing.
  override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    // Destroyed with its pool: say so, as a request to the destroyed pool would have.
    if (this.destroyed && this.#pool.signal.aborted) throw poolDestroyedError(method)
    this._start()
    return super.send(method, params)
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<(JsonRpcResult | JsonRpcError)[]> {
    const payloads = Array.isArray(payload) ? payload : [payload]
    return Promise.all(payloads.map((p) => this.#sendOne(p)))
  }

  async #sendOne({ id, method, params }: JsonRpcPayload): Promise<JsonRpcResult | JsonRpcError> {
    if (this.destroyed) throw destroyedError(method)
    const controller = new AbortController()
    this.#active.add(controller)
    try {
      const opts = { signal: controller.signal, timeout: this.#timeout }
      const args = params as unknown[]
      const result = await (this.#filters.handles(method) ? this.#filters.request(method, args, opts) : this.#pool.request(method, args, opts))
      return { id, result }
    } catch (error) {
      if (this.destroyed) throw destroyedError(method)
      // A node's answer goes back to ethers as the JSON-RPC error it was: ethers decodes reverts from it.
      if (isResilientRpcError(error, 'RPC_ERROR')) return { id, error: { code: error.rpcCode, message: error.rpcMessage, data: error.data } }
      if (isResilientRpcError(error, 'POOL_DESTROYED')) this.destroy()
      throw toEthersError(error, method)
    } finally {
      this.#active.delete(controller)
    }
  }

  // ethers' pollers re-arm themselves when a request in flight at destroy() settles (`once('block')`),
  // which would start a new block poller on a destroyed provider: from then on, subscribers are inert.
  // Blocks and events come from the pool's subscriptions — pushed over a WebSocket endpoint when one
  // is up, polled by the pool every `pollingInterval` otherwise — not from ethers polling eth_blockNumber.
  override _getSubscriber(sub: Subscription): Subscriber {
    if (this.destroyed) return new UnmanagedSubscriber(sub.type)
    if (!this.#polling && sub.type === 'block') return new PoolBlockSubscriber(this.#pool, this, this.pollingInterval)
    if (!this.#polling && sub.type === 'event') return new PoolEventSubscriber(this.#pool, this, sub.filter, this.pollingInterval)
    return super._getSubscriber(sub)
  }

  override destroy(): void {
    if (this.destroyed) return
    super.destroy()
    this.#pool.signal.removeEventListener('abort', this.#onPoolDestroyed)
    for (const controller of this.#active) controller.abort()
    this.#active.clear()
    this.#filters.clear()
  }
}

/** A pool failure in ethers' shape, with the pool's error as `cause` and `error`. */
function toEthersError(error: unknown, method: string): Error {
  if (!isResilientRpcError(error)) return error instanceof Error ? error : new Error(String(error))
  const info = { code: error.code }
  let e: Error
  switch (error.code) {
    case 'TIMEOUT':
      e = makeError(error.shortMessage, 'TIMEOUT', { operation: method, reason: 'timeout', info })
      break
    case 'ABORTED':
      e = makeError(error.shortMessage, 'CANCELLED', { info })
      break
    case 'POOL_DESTROYED':
      return Object.assign(poolDestroyedError(method), { cause: error, error })
    case 'INVALID_OPTION':
      e = makeError(error.shortMessage, 'INVALID_ARGUMENT', { argument: (error as InvalidOptionError).option, value: undefined, info })
      break
    default:
      e = makeError(error.shortMessage, 'SERVER_ERROR', { request: method, info })
  }
  return Object.assign(e, { cause: error, error })
}

const ETHERS_OPTIONS = optionNames<EthersProviderOptions>({ chainId: true, pollingInterval: true, timeout: true, filters: true, ethers: true })

/** Every option of ethers' JSON-RPC provider, and the ones the adapter leaves to the caller. */
const ETHERS_PROVIDER_OPTIONS = optionNames<JsonRpcApiProviderOptions>({ polling: true, staticNetwork: true, batchStallTime: true, batchMaxSize: true, batchMaxCount: true, cacheTimeout: true, pollingInterval: true })
const PASSED_ON = new Set(['polling', 'cacheTimeout'])

/** The `ethers` options: checked against ethers' own names, those the adapter sets refused with why. */
function ethersOptions(given: EthersProviderOptions['ethers']): EthersPassedOn {
  const options: Partial<JsonRpcApiProviderOptions> = optionsObject('ethers', given) ?? {}
  knownKeys('ethers', options, ETHERS_PROVIDER_OPTIONS)
  for (const key of Object.keys(options)) {
    if (PASSED_ON.has(key) || (options as Record<string, unknown>)[key] === undefined) continue
    const why = key === 'pollingInterval' ? 'give the adapter its `pollingInterval` instead' : 'the adapter sets it (a static network, one request per call: the pool balances single requests)'
    throw new InvalidOptionError(`ethers.${key}`, `not passed on to ethers: ${why}`)
  }
  return {
    ...(options.polling === undefined ? {} : { polling: boolean('ethers.polling', options.polling, false) }),
    ...(options.cacheTimeout === undefined ? {} : { cacheTimeout: integer('ethers.cacheTimeout', options.cacheTimeout, -1, -1) }),
  }
}
