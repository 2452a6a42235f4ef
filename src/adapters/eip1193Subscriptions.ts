import type { Pool } from '../pool/pool.js'
import type { RpcLog } from '../subscriptions/logs.js'
import { isResilientRpcError } from '../errors/guard.js'
import { toQuantity } from '../util/hex.js'
import { ProviderRpcError, toProviderRpcError } from './providerRpcError.js'

/** An EIP-1193 `message` event carrying one notification, as a node sends it over `eth_subscribe`. */
export type Eip1193Message = { type: 'eth_subscription'; data: { subscription: string; result: unknown } }

/** `eth_subscribe` / `eth_unsubscribe` of one EIP-1193 provider, served by `pool.subscribe`. */
export type Eip1193Subscriptions = {
  handles(method: string): boolean
  /** @throws `ProviderRpcError` -32602 for a kind or filter the pool cannot subscribe to */
  request(method: string, params: readonly unknown[]): string | boolean
}

/**
 * Subscriptions for an EIP-1193 provider, on the pool's own: `newHeads` and `logs` come pushed over a
 * WebSocket endpoint when one is up, polled otherwise, with the pool's failover and backfill, each
 * item once. A log that leaves the chain is sent again with `removed: true`, as nodes do; replaced
 * heads simply follow. Ids are this provider's own (`0x1`, `0x2`, …), stable across failovers. A
 * subscription ends with `eth_unsubscribe` or the pool.
 */
export function createEip1193Subscriptions(pool: Pool, notify: (message: Eip1193Message) => void): Eip1193Subscriptions {
  const live = new Map<string, () => void>()
  let next = 1n
  const subscribe = (params: readonly unknown[]): string => {
    const [kind, filter] = params
    const id = toQuantity(next++)
    const send = (result: unknown) => notify({ type: 'eth_subscription', data: { subscription: id, result } })
    try {
      if (kind === 'newHeads') live.set(id, pool.subscribe('newHeads', send))
      else if (kind === 'logs') live.set(id, pool.subscribe('logs', (filter ?? {}) as never, send, { onRemoved: (log: RpcLog) => send({ ...log, removed: true }) }))
      else throw new ProviderRpcError(-32602, `Unsupported subscription: ${JSON.stringify(kind)} (the pool subscribes to "newHeads" and "logs")`)
    } catch (error) {
      // A filter the pool refuses is the caller's mistake, in EIP-1193's words.
      if (isResilientRpcError(error, 'INVALID_OPTION')) throw new ProviderRpcError(-32602, `Invalid params: ${error.message}`, { cause: error })
      throw toProviderRpcError(error)
    }
    return id
  }
  return {
    handles: (method) => method === 'eth_subscribe' || method === 'eth_unsubscribe',
    request(method, params) {
      if (method === 'eth_subscribe') return subscribe(params)
      const end = typeof params[0] === 'string' ? live.get(params[0]) : undefined
      if (end === undefined) return false
      live.delete(params[0] as string)
      end()
      return true
    },
  }
}
