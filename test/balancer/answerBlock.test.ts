import { describe, expect, it } from 'vitest'
import { answerBlock } from '../../src/balancer/answerBlock.js'

// Which block an answer shows its endpoint has: the pool's heads move with every answer, not only pings.
describe('answerBlock', () => {
  it.each([
    ['eth_blockNumber', '0x1f', 31n],
    ['eth_getBlockByNumber', { number: '0x10', hash: '0xab' }, 16n],
    ['eth_getBlockByHash', { number: '0x11' }, 17n],
    ['eth_getTransactionReceipt', { blockNumber: '0x12', status: '0x1' }, 18n],
    ['eth_getTransactionByHash', { blockNumber: '0x13' }, 19n],
    ['eth_getLogs', [{ blockNumber: '0x5' }, { blockNumber: '0x9' }], 9n],
    ['eth_getBlockReceipts', [{ blockNumber: '0x14' }], 20n],
  ])('%s', (method, result, block) => {
    expect(answerBlock(method, result)).toBe(block)
  })

  it.each([
    ['a pending transaction (no block yet)', 'eth_getTransactionByHash', { blockNumber: null }],
    ['a pending block', 'eth_getBlockByNumber', { number: null }],
    ['no logs', 'eth_getLogs', []],
    ['null', 'eth_getTransactionReceipt', null],
    ['a method whose answer names no block', 'eth_call', '0x000000000000000000000000000000000000000000000000000000000000001f'],
    ['a name on Object.prototype', 'constructor', '0x1'],
    ['not a quantity', 'eth_blockNumber', 'latest'],
  ])('nothing from %s', (_name, method, result) => {
    expect(answerBlock(method, result)).toBeUndefined()
  })
})
