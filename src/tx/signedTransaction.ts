import { Transaction } from 'ethers'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { HEX_BYTES } from '../util/hex.js'

/** Throws `INVALID_OPTION` unless `raw` is 0x-prefixed hex bytes (the shape of a signed transaction). */
export function checkSignedBytes(raw: unknown): asserts raw is string {
  if (typeof raw !== 'string' || !HEX_BYTES.test(raw)) {
    throw new InvalidOptionError('signedTransaction', 'expected the signed transaction as 0x-prefixed hex bytes')
  }
}

/** Sender, nonce and hash of a signed transaction, or `INVALID_OPTION`. */
export function decodeSignedTransaction(raw: string): { hash: string; from: string; nonce: number } {
  checkSignedBytes(raw)
  let tx: Transaction
  try {
    tx = Transaction.from(raw)
  } catch (cause) {
    throw new InvalidOptionError('signedTransaction', 'not a valid transaction encoding', { cause })
  }
  if (!tx.isSigned() || tx.from === null || tx.hash === null) throw new InvalidOptionError('signedTransaction', 'expected a signed transaction')
  return { hash: tx.hash, from: tx.from, nonce: tx.nonce }
}
