import { describe, expect, it } from 'vitest'
import { blockTarget, pinBlock, type BlockTarget } from '../../src/balancer/blockTarget.js'

const ADDR = '0x00000000000000000000000000000000000000aa'
const TX_HASH = `0x${'ab'.repeat(32)}`
const CALL = { to: ADDR, data: '0x' }
const LATEST: BlockTarget = { kind: 'latest' }
const HASH: BlockTarget = { kind: 'hash' }
const at = (block: bigint): BlockTarget => ({ kind: 'number', block })

describe('blockTarget', () => {
  it.each([
    // Methods without a block parameter read the newest state, even when a parameter looks like a hex number.
    { method: 'eth_blockNumber', params: [], expected: LATEST },
    { method: 'eth_gasPrice', params: [], expected: LATEST },
    { method: 'eth_chainId', params: [], expected: LATEST },
    { method: 'eth_sendRawTransaction', params: ['0x10'], expected: LATEST },
    { method: 'eth_getTransactionReceipt', params: [TX_HASH], expected: LATEST },
    { method: 'eth_getTransactionByHash', params: [TX_HASH], expected: LATEST },
    { method: 'some_unknownMethod', params: ['0x10', '0x20'], expected: LATEST },

    { method: 'eth_getBalance', params: [ADDR, 'latest'], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, '0x10'], expected: at(16n) },
    { method: 'eth_getBalance', params: [ADDR, '0xFF'], expected: at(255n) },
    { method: 'eth_getBalance', params: [ADDR, '0x0'], expected: at(0n) },
    { method: 'eth_getBalance', params: [ADDR, `0x${'f'.repeat(20)}`], expected: at(2n ** 80n - 1n) },
    { method: 'eth_getBalance', params: [ADDR, { blockNumber: '0x10' }], expected: at(16n) },
    { method: 'eth_getBalance', params: [ADDR, { blockNumber: 'latest' }], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, { blockHash: '0xabc' }], expected: HASH },
    { method: 'eth_getBalance', params: [ADDR, { blockHash: '0xabc', requireCanonical: true }], expected: HASH },
    { method: 'eth_getBalance', params: [ADDR, { blockHash: '0xabc', blockNumber: '0x10' }], expected: HASH },
    { method: 'eth_getBalance', params: [ADDR, {}], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, null], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR], expected: LATEST },
    { method: 'eth_getCode', params: [ADDR, '0x7'], expected: at(7n) },
    { method: 'eth_getTransactionCount', params: [ADDR, 'pending'], expected: LATEST },
    { method: 'eth_call', params: [CALL, '0x5'], expected: at(5n) },
    { method: 'eth_call', params: [CALL, { blockHash: '0xabc' }], expected: HASH },
    { method: 'eth_call', params: [CALL], expected: LATEST },
    { method: 'eth_estimateGas', params: [CALL, '0xa'], expected: at(10n) },
    // The slot is the second parameter; only the third is the block.
    { method: 'eth_getStorageAt', params: [ADDR, '0x1', '0x20'], expected: at(32n) },
    { method: 'eth_getStorageAt', params: [ADDR, '0x1', 'latest'], expected: LATEST },
    { method: 'eth_getStorageAt', params: [ADDR, '0x1'], expected: LATEST },
    { method: 'eth_getProof', params: [ADDR, [], '0x3'], expected: at(3n) },

    { method: 'eth_getBlockByNumber', params: ['0x1', false], expected: at(1n) },
    { method: 'eth_getBlockByNumber', params: ['latest', false], expected: LATEST },
    { method: 'eth_getBlockByNumber', params: ['pending'], expected: LATEST },
    { method: 'eth_getBlockByNumber', params: ['safe'], expected: LATEST },
    { method: 'eth_getBlockByNumber', params: ['finalized'], expected: LATEST },
    { method: 'eth_getBlockByNumber', params: ['earliest'], expected: LATEST },
    { method: 'eth_getBlockReceipts', params: ['0x2'], expected: at(2n) },
    { method: 'eth_getBlockByHash', params: ['0xabc', false], expected: HASH },
    { method: 'eth_getBlockTransactionCountByHash', params: ['0xabc'], expected: HASH },

    { method: 'eth_getLogs', params: [{ fromBlock: '0x1', toBlock: '0x5' }], expected: at(5n) },
    { method: 'eth_getLogs', params: [{ toBlock: 'latest' }], expected: LATEST },
    { method: 'eth_getLogs', params: [{ fromBlock: '0x1' }], expected: LATEST },
    { method: 'eth_getLogs', params: [{}], expected: LATEST },
    { method: 'eth_getLogs', params: [{ blockHash: '0xabc' }], expected: HASH },
    { method: 'eth_getLogs', params: [{ blockHash: '0xabc', toBlock: '0x5' }], expected: HASH },
    { method: 'eth_getLogs', params: [], expected: LATEST },
    { method: 'eth_getLogs', params: [null], expected: LATEST },

    // Malformed block parameters fall back to latest, the strictest target.
    { method: 'eth_getBalance', params: [ADDR, '0xzz'], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, '0x'], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, '16'], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, 16], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, { blockNumber: '0xzz' }], expected: LATEST },
    { method: 'eth_getBalance', params: [ADDR, { blockNumber: 16 }], expected: LATEST },
    { method: 'eth_getBlockByNumber', params: ['0xzz', false], expected: LATEST },
    { method: 'eth_getLogs', params: [{ fromBlock: '0x1', toBlock: '0xzz' }], expected: LATEST },
  ].map((row) => ({ ...row, call: `${row.method}(${JSON.stringify(row.params).slice(1, -1).replaceAll(ADDR, 'ADDR').replaceAll(TX_HASH, 'TX_HASH')})` })) as Array<{ call: string; method: string; params: unknown[]; expected: BlockTarget }>)('$call → $expected', ({ method, params, expected }) => {
    expect(blockTarget(method, params)).toEqual(expected)
  })
})

describe('pinBlock', () => {
  it('pins a latest or omitted block parameter to the given block', () => {
    expect(pinBlock('eth_getBalance', ['0xabc', 'latest'], 255n)).toEqual(['0xabc', '0xff'])
    expect(pinBlock('eth_getBalance', ['0xabc'], 16n)).toEqual(['0xabc', '0x10'])
    expect(pinBlock('eth_getStorageAt', ['0xabc', '0x0'], 1n)).toEqual(['0xabc', '0x0', '0x1'])
    expect(pinBlock('eth_call', [{ to: '0xabc' }, 'latest'], 2n)).toEqual([{ to: '0xabc' }, '0x2'])
  })

  it('leaves alone what is already pinned, other tags and methods without a block parameter', () => {
    expect(pinBlock('eth_getBalance', ['0xabc', '0x5'], 9n)).toBeUndefined()
    expect(pinBlock('eth_getBalance', ['0xabc', 'pending'], 9n)).toBeUndefined()
    expect(pinBlock('eth_getBalance', ['0xabc', { blockHash: '0x1' }], 9n)).toBeUndefined()
    expect(pinBlock('eth_gasPrice', [], 9n)).toBeUndefined()
    // A missing earlier parameter is not a missing block parameter.
    expect(pinBlock('eth_getStorageAt', ['0xabc'], 9n)).toBeUndefined()
  })

  it('pins an eth_getLogs range that ends (or starts) at the head, and nothing else of it', () => {
    const address = '0xabc'
    expect(pinBlock('eth_getLogs', [{ address, fromBlock: '0x1', toBlock: 'latest' }], 16n)).toEqual([{ address, fromBlock: '0x1', toBlock: '0x10' }])
    expect(pinBlock('eth_getLogs', [{ address, fromBlock: '0x1' }], 16n)).toEqual([{ address, fromBlock: '0x1', toBlock: '0x10' }])
    // Both omitted: the head block alone, as a node would read it.
    expect(pinBlock('eth_getLogs', [{ address }], 16n)).toEqual([{ address, fromBlock: '0x10', toBlock: '0x10' }])
    expect(pinBlock('eth_getLogs', [{ address, fromBlock: '0x1', toBlock: '0x5' }], 16n)).toBeUndefined()
    expect(pinBlock('eth_getLogs', [{ address, blockHash: '0x12' }], 16n)).toBeUndefined()
    expect(pinBlock('eth_getLogs', [{ address, fromBlock: '0x1', toBlock: 'pending' }], 16n)).toBeUndefined()
    expect(pinBlock('eth_getLogs', [], 16n)).toBeUndefined()
  })
})
