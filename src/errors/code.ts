// What every module of the taxonomy shares without importing the base class: the codes, the brand
// and the shape of an exclusion. The serializer (json.ts) reads errors through these alone, so the
// base class can use it without an import circle.

/** Stable, machine-readable error codes. New codes may be added; existing ones never change meaning. */
export type ErrorCode =
  | 'TIMEOUT'
  | 'ABORTED'
  | 'CIRCUIT_OPEN'
  | 'NO_ENDPOINT'
  | 'POOL_DESTROYED'
  | 'NETWORK'
  | 'HTTP_ERROR'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'INVALID_RESPONSE'
  | 'RPC_ERROR'
  | 'RETRIES_EXHAUSTED'
  | 'INVALID_OPTION'
  | 'CHAIN_MISMATCH'
  | 'LAGGING'
  | 'NOT_READY'
  | 'INVALID_ABI'
  | 'NO_CODE'
  | 'CALL_REVERTED'
  | 'CONFIRMATION_TIMEOUT'
  | 'TX_REJECTED'
  | 'HANDLER_FAILED'
  | 'RETRY_BUDGET_EXHAUSTED'
  | 'QUEUE_FULL'
  | 'QUORUM_FAILED'
  | 'BLOCK_UNAVAILABLE'

/** Why one endpoint could not take a request (or was not tried), with the endpoint's redacted id. */
export type EndpointExclusion = { endpoint: string; reason: string }

// A registered symbol, not a module-local one: two copies of this package in one bundle must
// still recognise each other's errors.
export const BRAND = Symbol.for('resilient-rpc.error')
