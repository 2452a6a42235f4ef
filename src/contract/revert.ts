import { AbiCoder, type Interface } from 'ethers'
import type { DecodedRevert } from '../errors/contract.js'
import { isResilientRpcError } from '../errors/guard.js'
import { isRevertMessage } from '../errors/providerMessages.js'
import { HEX_DATA } from '../util/hex.js'
import { printable } from '../util/show.js'

const ERROR_STRING = '0x08c379a0' // Error(string)
const PANIC = '0x4e487b71' // Panic(uint256)

// The codes Solidity's checks panic with (docs: "Panic via assert and Error via require").
const PANICS: ReadonlyMap<bigint, string> = new Map([
  [0x00n, 'generic compiler panic'],
  [0x01n, 'assertion failed'],
  [0x11n, 'arithmetic overflow or underflow'],
  [0x12n, 'division or modulo by zero'],
  [0x21n, 'invalid enum value'],
  [0x22n, 'invalid storage byte array encoding'],
  [0x31n, 'pop on an empty array'],
  [0x32n, 'array index out of bounds'],
  [0x41n, 'out of memory (too large an allocation)'],
  [0x51n, 'call to a zero-initialised internal function'],
])

/** What a panic code means; `unknown panic code` for one Solidity does not define. */
export function panicName(code: bigint): string {
  return PANICS.get(code) ?? 'unknown panic code'
}

/**
 * Decodes revert data: a custom error the ABI declares, `Error(string)` or `Panic(uint256)`.
 * Returns `undefined` for empty or unknown data.
 */
export function decodeRevert(data: string | undefined, iface?: Interface): DecodedRevert | undefined {
  // Long enough to name an error: a 4-byte selector at least.
  if (data === undefined || data.length < 10 || !HEX_DATA.test(data)) return undefined
  const selector = data.slice(0, 10).toLowerCase()
  const coder = AbiCoder.defaultAbiCoder()
  try {
    if (selector === ERROR_STRING) {
      const [reason] = coder.decode(['string'], `0x${data.slice(10)}`)
      return { errorName: 'Error', signature: 'Error(string)', args: [reason], reason: printable(String(reason)) }
    }
    if (selector === PANIC) {
      const [code] = coder.decode(['uint256'], `0x${data.slice(10)}`) as unknown as [bigint]
      return { errorName: 'Panic', signature: 'Panic(uint256)', args: [code], panic: { code, name: panicName(code) } }
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
  const raw = typeof data === 'object' && data !== null ? (data as { data?: unknown }).data : data
  // Some clients put prose in `data` (e.g. why params are invalid): only hex is revert data.
  return typeof raw === 'string' && HEX_DATA.test(raw) && raw.length % 2 === 0 ? raw : undefined
}

/** Whether an RPC error is an execution revert (as opposed to, say, invalid params). */
export function isRevert(error: unknown): boolean {
  if (!isResilientRpcError(error, 'RPC_ERROR')) return false
  if (error.rpcCode === -32602 || error.rpcCode === -32601 || error.rpcCode === -32600) return false
  return error.rpcCode === 3 || isRevertMessage(error.rpcMessage) || revertData(error) !== undefined
}
