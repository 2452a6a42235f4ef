import { Fragment, getAddress, Interface, type FunctionFragment, type InterfaceAbi } from 'ethers'
import { ContractRevertError, InvalidAbiError, NoCodeError } from '../errors/contract.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import { withDeadline } from '../policy/timeout.js'
import { knownKeys, optionalSignal, optionNames, optionsObject } from '../config/validate.js'
import type { Pool } from '../pool/pool.js'
import { blockParameter, resolveBlock, type BlockOptions } from './blockTag.js'
import { argumentError } from './argumentError.js'
import { decodeRevert, isRevert, revertData } from './revert.js'
import { show, showJson } from '../util/show.js'

export type ReadOptions = BlockOptions & {
  /** Cancels the read, including the in-flight HTTP call. */
  signal?: AbortSignal
  /** Deadline of the read across all retries (ms). @default the pool's `defaultTimeout` */
  timeout?: number
}

/** A contract bound to a pool: ABI-checked reads with deadlines and confirmation depth. */
export type Contract = {
  /** Checksummed address. */
  readonly address: string
  /** The parsed ABI (ethers `Interface`). */
  readonly interface: Interface
  /**
   * Calls a view function and decodes its result: the value for one output, an array for several.
   * @throws `CALL_REVERTED` (decoded: custom error, `Error(string)` or `Panic`; never retried), `NO_CODE` (no
   * contract at the address in the block read), `INVALID_ABI` (the answer does not decode: the code there
   * is not what the ABI describes), `INVALID_OPTION`
   * (unknown function; arguments that do not encode, with `option` the argument's path, e.g. `args[0]`;
   * conflicting block options), and the pool's request errors
   * (`TIMEOUT`, `ABORTED`, `NO_ENDPOINT`, …)
   * @example
   * const balance = await token.read('balanceOf', [owner], { confirmations: 12, timeout: 5_000 })
   */
  read<T = unknown>(functionName: string, args?: readonly unknown[], options?: ReadOptions): Promise<T>
  /** ABI-encodes a call, for `eth_call`, `eth_estimateGas` or a transaction's `data`. */
  encode(functionName: string, args?: readonly unknown[]): string
}

/**
 * Parses every ABI entry strictly. ethers' `Interface` drops an entry it cannot parse with a console
 * warning, which would turn a typo into "no such function" at the first call.
 */
export function parseAbi(abi: InterfaceAbi): Interface {
  let entries: unknown
  try {
    entries = typeof abi === 'string' ? JSON.parse(abi) : abi
  } catch (cause) {
    throw new InvalidAbiError('not valid JSON', { cause })
  }
  if (!Array.isArray(entries)) throw new InvalidAbiError('expected an array of fragments (JSON objects or human-readable strings)')
  const fragments = entries.map((entry: unknown, i) => {
    try {
      return Fragment.from(entry as string)
    } catch (cause) {
      const problem = cause instanceof Error ? ((cause as { shortMessage?: string }).shortMessage ?? cause.message) : String(cause)
      throw new InvalidAbiError(`entry ${i}: ${problem}`, { cause })
    }
  })
  try {
    return new Interface(fragments)
  } catch (cause) {
    // Fragments fine one by one can still clash as a whole (two fallbacks, two constructors).
    throw new InvalidAbiError(cause instanceof Error ? (cause as { shortMessage?: string }).shortMessage ?? cause.message : 'the fragments do not form one ABI', { cause })
  }
}

/**
 * Binds `abi` at `address` to `pool`. The ABI is parsed here, so a broken one fails at start-up,
 * not at the first call.
 * @throws `INVALID_ABI`, `INVALID_OPTION` (bad address)
 * @example
 * const counter = createContract(pool, '0x…', ['function value() view returns (uint256)'])
 * const value = await counter.read<bigint>('value', [], { confirmations: 3 })
 */
export function createContract(pool: Pool, address: string, abi: InterfaceAbi): Contract {
  const iface = parseAbi(abi)
  let checksummed: string
  try {
    checksummed = getAddress(address)
  } catch (cause) {
    throw new InvalidOptionError('address', `expected an address, got ${show(address)}`, { cause })
  }

  const fragment = (functionName: string): FunctionFragment => {
    // Checked first: the message below quotes the name, and JSON.stringify throws on a bigint.
    if (typeof functionName !== 'string') throw new InvalidOptionError('functionName', `expected a string, got ${show(functionName)}`)
    let f: FunctionFragment | null = null
    try {
      f = iface.getFunction(functionName)
    } catch (cause) {
      // An overloaded name or a malformed signature: ethers throws, the caller gets our error.
      throw new InvalidOptionError('functionName', `${showJson(functionName)} does not name one function of the ABI (overloaded? give the full signature)`, { cause })
    }
    if (!f) throw new InvalidOptionError('functionName', `the ABI has no function ${showJson(functionName)}`)
    return f
  }

  const encode = (functionName: string, args: readonly unknown[] = []): string => {
    const f = fragment(functionName)
    if (!Array.isArray(args)) throw new InvalidOptionError('args', `expected an array, got ${show(args)}`)
    try {
      return iface.encodeFunctionData(f, args as unknown[])
    } catch (cause) {
      throw argumentError(f, args, cause)
    }
  }

  return {
    address: checksummed,
    interface: iface,
    encode,
    async read<T>(functionName: string, args: readonly unknown[] = [], options: ReadOptions = {}): Promise<T> {
      optionsObject('options', options)
      knownKeys('', options, READ_OPTIONS)
      optionalSignal('signal', options.signal)
      const f = fragment(functionName)
      const data = encode(functionName, args)
      let result: string
      try {
        // One deadline for the block lookup, the call and the code check together.
        result = await withDeadline(
          async (deadline) => {
            const block = await resolveBlock(pool, { ...options, signal: deadline, timeout: undefined })
            const answer = await pool.request<string>('eth_call', [{ to: checksummed, data }, blockParameter(block)], { signal: deadline })
            // No data where outputs were due: either nothing is deployed there, or the code there is not
            // this ABI's. Only the code at the same block tells them apart (a read at depth sees the
            // chain as it was then: a contract deployed since is not there yet).
            if (answer === '0x' && f.outputs.length > 0) {
              const code = await pool.request<string>('eth_getCode', [checksummed, blockParameter(block)], { signal: deadline })
              if (code === '0x') throw new NoCodeError(f.name, checksummed, block)
            }
            return answer
          },
          { timeout: options.timeout, signal: options.signal },
        )
      } catch (error) {
        if (isRevert(error)) {
          const raw = revertData(error)
          throw new ContractRevertError(f.name, decodeRevert(raw, iface), raw, { cause: error, attempts: isResilientRpcError(error) ? error.attempts : [] })
        }
        throw error
      }
      let decoded
      try {
        decoded = iface.decodeFunctionResult(f, result)
      } catch (cause) {
        // Not the node's fault, and not worth a retry: the ABI does not describe what is at the address.
        const why = result === '0x' ? 'the call returned no data, though there is code at the address (not the contract this ABI describes?)' : 'the result does not match the ABI'
        throw new InvalidAbiError(`${f.format()}: ${why}`, { cause })
      }
      return (decoded.length === 1 ? decoded[0] : decoded.toArray()) as T
    },
  }
}

const READ_OPTIONS = optionNames<ReadOptions>({ blockTag: true, confirmations: true, finality: true, signal: true, timeout: true })
