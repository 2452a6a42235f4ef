import { isResilientRpcError } from '../errors/guard.js'
import type { ErrorCode } from '../errors/base.js'

/**
 * The error an EIP-1193 provider rejects with: `code` and `message` (and `data`) as EIP-1193 and
 * JSON-RPC define them, so viem and wallet libraries understand it; `cause` is the pool's
 * `ResilientRpcError`, with every attempt.
 */
export class ProviderRpcError extends Error {
  override name = 'ProviderRpcError'
  /** JSON-RPC / EIP-1193 error code. */
  readonly code: number
  /** The node's `data` for a node's answer (revert data); else `{ code }`, the pool's error code. */
  readonly data: unknown
  constructor(code: number, message: string, options: { data?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.data = options.data
  }
}

/**
 * The EIP-1193 (4xxx) or JSON-RPC / EIP-1474 (-32xxx) code for each pool error. `RPC_ERROR` is absent:
 * a node's answer keeps the node's own code, message and data.
 *
 * - Provider-side failures after the pool's own retries and failover (deadline, every endpoint
 *   failing, garbage answers) are -32603 "Internal error", as MetaMask reports upstream failures.
 * - No endpoint that could serve (or a destroyed pool) is 4900 "Disconnected": the provider is
 *   connected to no chain; an endpoint on another chain is 4901 "Chain disconnected".
 * - An answer that does not fit the ABI, and a call to an address without code, are -32602 "Invalid
 *   params": the call is wrong, not the provider.
 * - A revert decoded by `createContract` is 3 "execution reverted" with the revert data, as nodes send it;
 *   every endpoint refusing a transaction is -32003 "Transaction rejected".
 * - A full queue (the endpoints' own limits) is -32005 "Limit exceeded", like a provider's 429;
 *   a spent retry budget and a failed quorum are upstream failures, -32603.
 * - No endpoint having the block a read is pinned to is EIP-1474's -32001 "Resource not found", as
 *   reth and Nethermind answer for a block they lack.
 * - A caller's abort is 4001, the one code every library treats as a final "the requester declined";
 *   `data.code === 'ABORTED'` tells it apart from a wallet user's rejection.
 */
export const PROVIDER_ERROR_CODES: Readonly<Record<Exclude<ErrorCode, 'RPC_ERROR'>, number>> = Object.freeze({
  TIMEOUT: -32603,
  RETRIES_EXHAUSTED: -32603,
  NETWORK: -32603,
  HTTP_ERROR: -32603,
  INVALID_RESPONSE: -32603,
  UNAUTHORIZED: -32603,
  CIRCUIT_OPEN: -32603,
  LAGGING: -32603,
  RATE_LIMITED: -32005,
  INVALID_OPTION: -32602,
  NO_ENDPOINT: 4900,
  NOT_READY: 4900,
  POOL_DESTROYED: 4900,
  CHAIN_MISMATCH: 4901,
  ABORTED: 4001,
  INVALID_ABI: -32602,
  NO_CODE: -32602,
  CALL_REVERTED: 3,
  CONFIRMATION_TIMEOUT: -32603,
  TX_REJECTED: -32003,
  HANDLER_FAILED: -32603,
  RETRY_BUDGET_EXHAUSTED: -32603,
  QUORUM_FAILED: -32603,
  QUEUE_FULL: -32005,
  BLOCK_UNAVAILABLE: -32001,
})

/** Maps whatever a pool request threw to the `ProviderRpcError` an EIP-1193 provider rejects with. */
export function toProviderRpcError(error: unknown): ProviderRpcError {
  if (error instanceof ProviderRpcError) return error
  if (isResilientRpcError(error, 'RPC_ERROR')) return new ProviderRpcError(error.rpcCode, error.rpcMessage, { data: error.data, cause: error })
  if (isResilientRpcError(error, 'CALL_REVERTED')) return new ProviderRpcError(3, error.message, { data: error.data, cause: error })
  if (isResilientRpcError(error)) return new ProviderRpcError(PROVIDER_ERROR_CODES[error.code as Exclude<ErrorCode, 'RPC_ERROR'>], error.message, { data: { code: error.code }, cause: error })
  return new ProviderRpcError(-32603, error instanceof Error ? error.message : String(error), { cause: error })
}
