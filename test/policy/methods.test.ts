import { describe, expect, it } from 'vitest'
import { isIdempotentRead } from '../../src/policy/methods.js'

describe('isIdempotentRead', () => {
  it.each(['eth_blockNumber', 'eth_call', 'eth_getBalance', 'eth_getLogs', 'eth_getTransactionReceipt', 'eth_chainId', 'eth_estimateGas'])('%s may be shared and hedged', (method) => {
    expect(isIdempotentRead(method)).toBe(true)
  })

  it.each(['eth_sendRawTransaction', 'eth_sendTransaction', 'eth_newFilter', 'eth_getFilterChanges', 'eth_subscribe', 'eth_sign', 'debug_traceTransaction', 'unknown_method'])(
    '%s is never shared or hedged',
    (method) => {
      expect(isIdempotentRead(method)).toBe(false)
    },
  )
})
