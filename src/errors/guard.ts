import { BRAND, type ErrorCode, type ResilientRpcError } from './base.js'
import type { ChainMismatchError, EndpointLaggingError, HttpError, InvalidResponseError, NetworkError, RateLimitedError, RpcResponseError, UnauthorizedError } from './endpoint.js'
import type { ConfirmationTimeoutError, ContractRevertError, HandlerError, InvalidAbiError, NoCodeError, TransactionRejectedError } from './contract.js'
import type { InvalidOptionError } from './invalidOption.js'
import type {
  AbortedError,
  BlockUnavailableError,
  CircuitOpenError,
  NoHealthyEndpointError,
  NotReadyError,
  PoolDestroyedError,
  QueueFullError,
  QuorumError,
  RetriesExhaustedError,
  RetryBudgetExhaustedError,
  TimeoutError,
} from './request.js'

/**
 * Type guard for resilient-rpc errors, optionally of one `code`. Checks a brand rather than
 * `instanceof` alone, so it works across duplicate installs of the package.
 * @example if (isResilientRpcError(err, 'TIMEOUT')) retryLater()
 */
export function isResilientRpcError(error: unknown): error is ResilientRpcError
export function isResilientRpcError<C extends ErrorCode>(error: unknown, code: C): error is ErrorByCode[C]
export function isResilientRpcError(error: unknown, code?: ErrorCode): boolean {
  if (typeof error !== 'object' || error === null || (error as Record<symbol, unknown>)[BRAND] !== true) return false
  return code === undefined || (error as ResilientRpcError).code === code
}

/** The class behind each code, so `isResilientRpcError(e, 'TIMEOUT')` narrows to `TimeoutError`. */
export type ErrorByCode = {
  TIMEOUT: TimeoutError
  ABORTED: AbortedError
  CIRCUIT_OPEN: CircuitOpenError
  NO_ENDPOINT: NoHealthyEndpointError
  POOL_DESTROYED: PoolDestroyedError
  NETWORK: NetworkError
  HTTP_ERROR: HttpError
  UNAUTHORIZED: UnauthorizedError
  RATE_LIMITED: RateLimitedError
  INVALID_RESPONSE: InvalidResponseError
  RPC_ERROR: RpcResponseError
  RETRIES_EXHAUSTED: RetriesExhaustedError
  INVALID_OPTION: InvalidOptionError
  CHAIN_MISMATCH: ChainMismatchError
  LAGGING: EndpointLaggingError
  NOT_READY: NotReadyError
  INVALID_ABI: InvalidAbiError
  NO_CODE: NoCodeError
  CALL_REVERTED: ContractRevertError
  CONFIRMATION_TIMEOUT: ConfirmationTimeoutError
  TX_REJECTED: TransactionRejectedError
  HANDLER_FAILED: HandlerError
  RETRY_BUDGET_EXHAUSTED: RetryBudgetExhaustedError
  QUEUE_FULL: QueueFullError
  QUORUM_FAILED: QuorumError
  BLOCK_UNAVAILABLE: BlockUnavailableError
}
