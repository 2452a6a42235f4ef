import { AbiCoder, type Interface } from 'ethers'
import type { DecodedRevert } from '../errors/errors.js'
import { isResilientRpcError } from '../errors/errors.js'

const ERROR_STRING = '0x08c379a0' // Error(string)
const PANIC = '0x4e487b71' // Panic(uint256)

/**
 * Decodes revert data: a custom error the ABI declares, `Error(string)` or `Panic(uint256)`.
 * Returns `undefined` for empty or unknown data.
 */
export function decodeRevert(data: string | undefined, iface?: Interface): DecodedRevert | undefined {
  if (data === undefined || !/^0x[0-9a-fA-F]{8}/.test(data)) return undefined
  const selector = data.slice(0, 10).toLowerCase()
  const coder = AbiCoder.defaultAbiCoder()
  try {
    if (selector === ERROR_STRING) {
      const [reason] = coder.decode(['string'], `0x${data.slice(10)}`)
      return { errorName: 'Error', signature: 'Error(string)', args: [reason], reason: String(reason) }
    }
    if (selector === PANIC) {
      const [code] = coder.decode(['uint256'], `0x${data.slice(10)}`)
      return { errorName: 'Panic', signature: 'Panic(uint256)', args: [code] }
    }
    const parsed = iface?.parseError(data)
    if (!parsed) return undefined
    return { errorName: parsed.name, signature: parsed.signature, args: parsed.args.toArray() }
  } catch {
    // Data that claims a known selector but does not decode is reported raw.
    return undefined
  }
}

/** The revert data a node attached to an RPC error (geth: `data`; some providers nest it one level deeper). */
export function revertData(error: unknown): string | undefined {
  if (!isResilientRpcError(error, 'RPC_ERROR')) return undefined
  const { data } = error
  if (typeof data === 'string') return data
  if (typeof data === 'object' && data !== null && typeof (data as { data?: unknown }).data === 'string') return (data as { data: string }).data
  return undefined
}

/** Whether an RPC error is an execution revert (as opposed to, say, invalid params). */
export function isRevert(error: unknown): boolean {
  if (!isResilientRpcError(error, 'RPC_ERROR')) return false
  return error.rpcCode === 3 || /revert/i.test(error.rpcMessage) || revertData(error) !== undefined
}
