/**
 * Hex strings as JSON-RPC carries them. Every pattern and conversion lives here; nodes send
 * quantities with or without leading zeros and in either case, so the patterns accept both.
 */

/** A quantity: `0x` and at least one hex digit. */
export const HEX_QUANTITY = /^0x[0-9a-fA-F]+$/
/** Data: `0x` and any number of hex digits (`0x` alone is empty data). */
export const HEX_DATA = /^0x[0-9a-fA-F]*$/
/** Whole bytes: `0x` and an even, non-zero number of hex digits. */
export const HEX_BYTES = /^0x([0-9a-fA-F]{2})+$/
/** A 32-byte hash (block, transaction) or topic. */
export const HASH = /^0x[0-9a-fA-F]{64}$/
/** A 20-byte address, in any case (checksums are not checked here). */
export const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** Whether `value` is a hex quantity string. */
export function isQuantity(value: unknown): value is string {
  return typeof value === 'string' && HEX_QUANTITY.test(value)
}

/** `value` as a bigint when it is a hex quantity, else `undefined`. */
export function quantityOrUndefined(value: unknown): bigint | undefined {
  return isQuantity(value) ? BigInt(value) : undefined
}

/** A non-negative integer as a JSON-RPC quantity (`0x` + lower-case digits, no leading zeros). */
export function toQuantity(n: bigint | number): `0x${string}` {
  return `0x${n.toString(16)}`
}

/** Bytes as `0x`-prefixed lower-case hex. */
export function bytesToHex(bytes: Uint8Array): `0x${string}` {
  let out = '0x'
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out as `0x${string}`
}
