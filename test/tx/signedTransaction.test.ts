import { Transaction, Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { checkSignedBytes, decodeSignedTransaction } from '../../src/tx/signedTransaction.js'

const wallet = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
const request = { to: '0x000000000000000000000000000000000000dEaD', value: 1n, nonce: 42, gasLimit: 21_000n, gasPrice: 1n, chainId: 1n }
const SIGNED = await wallet.signTransaction(request)

describe('decodeSignedTransaction', () => {
  it('derives hash, sender and nonce from the signed bytes', () => {
    expect(decodeSignedTransaction(SIGNED)).toEqual({ hash: Transaction.from(SIGNED).hash, from: wallet.address, nonce: 42 })
  })

  it.each([
    { name: 'not hex bytes', raw: 'nope', message: 'Invalid option `signedTransaction`: expected the signed transaction as 0x-prefixed hex bytes' },
    { name: 'bytes that are no transaction', raw: '0x1234', message: 'Invalid option `signedTransaction`: not a valid transaction encoding' },
    { name: 'an unsigned transaction', raw: Transaction.from(request).unsignedSerialized, message: 'Invalid option `signedTransaction`: expected a signed transaction' },
  ])('$name → INVALID_OPTION', ({ raw, message }) => {
    expect(() => decodeSignedTransaction(raw)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'signedTransaction', shortMessage: message }))
  })
})

describe('checkSignedBytes', () => {
  it.each(['0x', '0x123', '1234', '', 42, null])('%j → INVALID_OPTION', (raw) => {
    expect(() => checkSignedBytes(raw)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'signedTransaction' }))
  })

  it('lets 0x-prefixed hex bytes through', () => {
    expect(() => checkSignedBytes(SIGNED)).not.toThrow()
  })
})
