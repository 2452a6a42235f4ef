import { ChainMismatchError, InvalidResponseError } from '../errors/endpoint.js'
import { isQuantity } from '../util/hex.js'
import type { WsHandshake } from '../config/webSocketOptions.js'

/**
 * The default handshake of every new connection: `eth_chainId` must answer a quantity, equal to
 * `expected` when one is configured. Until it passes, the connection does not count as open.
 */
export function chainIdHandshake(expected: bigint | undefined): WsHandshake {
  return async (request, { endpoint }) => {
    const value = await request('eth_chainId')
    if (!isQuantity(value)) throw new InvalidResponseError(`eth_chainId returned ${JSON.stringify(value)?.slice(0, 40)}, expected a hex quantity`, { endpoint })
    const actual = BigInt(value)
    if (expected !== undefined && actual !== expected) throw new ChainMismatchError(expected, actual, { endpoint })
  }
}
