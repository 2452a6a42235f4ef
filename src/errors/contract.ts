import { HASH, HEX_QUANTITY } from '../util/hex.js'
import { ResilientRpcError, type ResilientRpcErrorOptions } from './base.js'

/** An ABI given to `createContract` could not be parsed. Thrown at creation, not at the first call. */
export class InvalidAbiError extends ResilientRpcError {
  override name = 'InvalidAbiError'
  constructor(problem: string, options: ResilientRpcErrorOptions = {}) {
    super('INVALID_ABI', `Invalid ABI: ${problem}`, options)
  }
}

/**
 * A contract call answered with no data, and the address has no code at the block the call read:
 * nothing is deployed there on this chain (yet, at that block). Not retried.
 */
export class NoCodeError extends ResilientRpcError {
  override name = 'NoCodeError'
  readonly functionName: string
  /** The address called (checksummed). */
  readonly address: string
  /** The block the call read, as it was asked: a hex number (`0x…`), a block hash, or a tag (`latest`). */
  readonly block: string
  constructor(functionName: string, address: string, block: string, options: ResilientRpcErrorOptions = {}) {
    super('NO_CODE', `${functionName}: no contract code at ${address} in block ${describeBlock(block)}`, options)
    this.functionName = functionName
    this.address = address
    this.block = block
  }
}

/** A block as people read it: a number in decimal, a hash or a tag as given. */
function describeBlock(block: string): string {
  return HEX_QUANTITY.test(block) && !HASH.test(block) ? BigInt(block).toString() : block
}

/** A Solidity panic: the compiler's check that failed. */
export type PanicInfo = {
  /** The panic code, e.g. `0x12n`. */
  code: bigint
  /** What the code means, e.g. `division or modulo by zero`; `unknown panic code` for a code Solidity does not define. */
  name: string
}

/** A decoded revert: a custom error from the ABI, `Error(string)` or `Panic(uint256)`. Never retried. */
export type DecodedRevert = {
  /** `Error` for require/revert strings, `Panic` for compiler checks, else the custom error's name. */
  errorName: string
  /** Full signature, e.g. `Unauthorized(address,uint256)`. */
  signature: string
  /** Decoded arguments, in order: for `Error(string)`, the exact string the contract gave. */
  args: readonly unknown[]
  /**
   * The `Error(string)` message, when that is what it is, printable: control characters escaped
   * (`\x00`, `\n`) as messages show it. The exact decoded string is `args[0]`.
   */
  reason?: string
  /** For `Panic(uint256)`: its code and what it means. */
  panic?: PanicInfo
}

/** A contract call reverted. `revert` is decoded when the ABI (or the built-in errors) know the data. */
export class ContractRevertError extends ResilientRpcError {
  override name = 'ContractRevertError'
  readonly functionName: string
  readonly revert: DecodedRevert | undefined
  /** Raw revert data (hex), if the node returned any. */
  readonly data: string | undefined
  constructor(functionName: string, revert: DecodedRevert | undefined, data: string | undefined, options: ResilientRpcErrorOptions = {}) {
    super('CALL_REVERTED', `${functionName} reverted: ${describeRevert(revert, data)}`, options)
    this.functionName = functionName
    this.revert = revert
    this.data = data
  }
}

function describeRevert(revert: DecodedRevert | undefined, data: string | undefined): string {
  if (revert === undefined) return data && data !== '0x' ? `unknown error data ${data.slice(0, 10)}` : 'without data'
  if (revert.reason !== undefined) return `"${revert.reason}"`
  if (revert.panic !== undefined) return `Panic(0x${revert.panic.code.toString(16).padStart(2, '0')}): ${revert.panic.name}`
  return `${revert.errorName}(${revert.args.map(String).join(', ')})`
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
