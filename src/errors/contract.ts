import { ResilientRpcError, type ResilientRpcErrorOptions } from './base.js'

/** An ABI given to `createContract` could not be parsed. Thrown at creation, not at the first call. */
export class InvalidAbiError extends ResilientRpcError {
  override name = 'InvalidAbiError'
  constructor(problem: string, options: ResilientRpcErrorOptions = {}) {
    super('INVALID_ABI', `Invalid ABI: ${problem}`, options)
  }
}

/** A decoded revert: a custom error from the ABI, `Error(string)` or `Panic(uint256)`. Never retried. */
export type DecodedRevert = {
  /** `Error` for require/revert strings, `Panic` for compiler checks, else the custom error's name. */
  errorName: string
  /** Full signature, e.g. `Unauthorized(address,uint256)`. */
  signature: string
  /** Decoded arguments, in order. */
  args: readonly unknown[]
  /** The `Error(string)` message, when that is what it is. */
  reason?: string
}

/** A contract call reverted. `revert` is decoded when the ABI (or the built-in errors) know the data. */
export class ContractRevertError extends ResilientRpcError {
  override name = 'ContractRevertError'
  readonly functionName: string
  readonly revert: DecodedRevert | undefined
  /** Raw revert data (hex), if the node returned any. */
  readonly data: string | undefined
  constructor(functionName: string, revert: DecodedRevert | undefined, data: string | undefined, options: ResilientRpcErrorOptions = {}) {
    const what = revert === undefined ? (data && data !== '0x' ? `unknown error data ${data.slice(0, 10)}` : 'without data') : revert.reason !== undefined ? `"${revert.reason}"` : `${revert.errorName}(${revert.args.map(String).join(', ')})`
    super('CALL_REVERTED', `${functionName} reverted: ${what}`, options)
    this.functionName = functionName
    this.revert = revert
    this.data = data
  }
}

/** The state a transaction was last seen in while waiting for its confirmations. */
export type TransactionState =
  | { status: 'pending' }
  | { status: 'mined'; blockNumber: bigint; blockHash: string; confirmations: bigint; reverted: boolean }
  | { status: 'reorged'; blockNumber: bigint; blockHash: string }


/** A transaction did not reach the wanted depth before the deadline. Names the last state seen. */
export class ConfirmationTimeoutError extends ResilientRpcError {
  override name = 'ConfirmationTimeoutError'
  readonly hash: string
  readonly lastState: TransactionState
  constructor(hash: string, wanted: bigint, lastState: TransactionState, options: ResilientRpcErrorOptions = {}) {
    const seen =
      lastState.status === 'pending'
        ? 'still pending'
        : lastState.status === 'reorged'
          ? `reorged out of block ${lastState.blockNumber}`
          : `mined${lastState.reverted ? ' (reverted)' : ''} at depth ${lastState.confirmations} in block ${lastState.blockNumber}`
    super('CONFIRMATION_TIMEOUT', `Transaction ${hash} not ${wanted} deep in time: ${seen}`, options)
    this.hash = hash
    this.lastState = lastState
  }
}

/** Every endpoint refused a transaction (nonce too low, insufficient funds, …). Lists each answer. */
export class TransactionRejectedError extends ResilientRpcError {
  override name = 'TransactionRejectedError'
  readonly hash: string
  readonly rejections: readonly { endpoint: string; error: ResilientRpcError }[]
  constructor(hash: string, rejections: readonly { endpoint: string; error: ResilientRpcError }[], options: ResilientRpcErrorOptions = {}) {
    const first = rejections[0]?.error
    super('TX_REJECTED', `Transaction ${hash} rejected${first ? `: ${first.shortMessage}` : ''}`, {
      ...options,
      details: rejections.map((r) => `${r.endpoint}: ${r.error.shortMessage}`).join('; ') || options.details,
    })
    this.hash = hash
    this.rejections = rejections
  }
}

/** A callback given to the library (an event handler, `onCheckpoint`) threw; `cause` is what it threw. It is retried. */
export class HandlerError extends ResilientRpcError {
  override name = 'HandlerError'
  /** How many times in a row it has failed on this item. */
  readonly failures: number
  constructor(what: string, failures: number, options: ResilientRpcErrorOptions = {}) {
    super('HANDLER_FAILED', `${what} threw (${failures} time${failures === 1 ? '' : 's'} in a row)`, options)
    this.failures = failures
  }
}
