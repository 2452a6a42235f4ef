import { createTransport, type EIP1193RequestFn, type Transport } from 'viem'
import { createEip1193Provider, InvalidOptionError, type Pool, type RpcLog } from 'resilient-rpc'
import { toViemError } from './errors.js'

export type ResilientTransportOptions = {
  /** Deadline of each request, across all the pool's attempts (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  /** The transport's key and name, as viem shows them. @default 'resilient' / 'resilient-rpc' */
  key?: string
  name?: string
}

/** What the transport exposes beside `request` (`client.transport`): the pool, and push subscriptions. */
export type ResilientTransportValue = {
  readonly pool: Pool
  /**
   * viem's subscription interface (its `watch*` actions call it unless given `poll: true`): `newHeads` and
   * `logs` ride `pool.subscribe` — pushed over a WebSocket endpoint when one is up, polled otherwise,
   * with the pool's failover and backfill, each item once.
   */
  subscribe(args: {
    params: readonly unknown[]
    onData: (data: { subscription: string; result: unknown }) => void
    onError?: (error: unknown) => void
  }): Promise<{ subscriptionId: string; unsubscribe: () => Promise<boolean> }>
}

/**
 * `type: 'webSocket'` because viem keys push on it, at runtime (its `watch*` actions subscribe by
 * default) and in its types (`poll: false` is allowed only for `webSocket` and `ipc`): every watch
 * goes through `pool.subscribe`, which pushes over a WebSocket endpoint when one is up and polls
 * otherwise. Nothing else in viem reads the type.
 */
export type ResilientTransport = Transport<'webSocket', ResilientTransportValue>

/**
 * A viem transport over a pool: `createPublicClient({ chain, transport: resilientTransport(pool) })`.
 * viem adds no retries of its own (`retryCount: 0`): the pool's deadline, retries and failover govern,
 * and the caller's `signal` cancels. Errors arrive as viem's own classes where one fits, the pool's
 * error as their `cause` (see `toViemError`). Filters (`eth_newFilter` & co.) are emulated over the
 * pool, so they survive failover. viem's `watch*` actions subscribe through the pool by default (see
 * `ResilientTransport`); with `poll: true` they poll as usual. `watchPendingTransactions` needs
 * `poll: true`: the pool does not subscribe to pending transactions.
 * @throws `INVALID_OPTION` for a bad pool or option
 */
export function resilientTransport(pool: Pool, options: ResilientTransportOptions = {}): ResilientTransport {
  const { timeout, key = 'resilient', name = 'resilient-rpc', ...rest } = options
  const unknown = Object.keys(rest).find((k) => (rest as Record<string, unknown>)[k] !== undefined)
  if (unknown !== undefined) throw new InvalidOptionError(unknown, 'unknown option (the options are timeout, key, name)')
  // Requests, errors and filters as the EIP-1193 provider has them; it validates the pool and timeout.
  const provider = createEip1193Provider(pool, timeout === undefined ? {} : { timeout })
  const request = (async ({ method, params }: { method: string; params?: unknown }, requestOptions?: { signal?: AbortSignal }) => {
    try {
      return await provider.request({ method, params: (params ?? []) as readonly unknown[] }, requestOptions)
    } catch (error) {
      throw toViemError(error, { method, params })
    }
  }) as EIP1193RequestFn
  // Subscription ids are this transport's own, stable across the pool's failovers.
  let nextSubscription = 1n
  const value: ResilientTransportValue = {
    pool,
    async subscribe({ params, onData, onError }) {
      const [kind, filter] = params
      const subscriptionId = `0x${(nextSubscription++).toString(16)}`
      const send = (result: unknown) => onData({ subscription: subscriptionId, result })
      const report = onError === undefined ? undefined : (error: unknown) => onError(toViemError(error, { method: 'eth_subscribe', params }))
      let stop: () => void
      try {
        if (kind === 'newHeads') stop = pool.subscribe('newHeads', send, { onError: report })
        else if (kind === 'logs') stop = pool.subscribe('logs', (filter ?? {}) as never, send, { onError: report, onRemoved: (log: RpcLog) => send({ ...log, removed: true }) })
        else throw new InvalidOptionError('params[0]', `expected 'newHeads' or 'logs' (what the pool subscribes to), got ${JSON.stringify(kind)}`)
      } catch (error) {
        throw toViemError(error, { method: 'eth_subscribe', params })
      }
      return {
        subscriptionId,
        async unsubscribe() {
          stop()
          return true
        },
      }
    },
  }
  return () => createTransport({ key, name, type: 'webSocket', request, retryCount: 0 }, value)
}
