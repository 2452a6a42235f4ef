import { describe, expect, it } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { parseLogCriteria } from '../../src/filters/criteria.js'

const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const TOPIC = `0x${'ab'.repeat(32)}`

describe('parseLogCriteria', () => {
  it.each([
    [{}, { match: {}, from: { kind: 'latest' }, to: { kind: 'latest' } }],
    [{ address: ADDRESS, topics: [TOPIC, null, [TOPIC, null]] }, { match: { address: ADDRESS, topics: [TOPIC, null, [TOPIC, null]] }, from: { kind: 'latest' }, to: { kind: 'latest' } }],
    [{ address: [ADDRESS], fromBlock: '0x10', toBlock: 'latest' }, { match: { address: [ADDRESS] }, from: { kind: 'number', block: 16n }, to: { kind: 'latest' } }],
    [{ fromBlock: 'earliest', toBlock: '0x0' }, { match: {}, from: { kind: 'number', block: 0n }, to: { kind: 'number', block: 0n } }],
    [{ fromBlock: 'pending', address: null, topics: null }, { match: {}, from: { kind: 'latest' }, to: { kind: 'latest' } }],
  ])('accepts %j', (input, expected) => {
    expect(parseLogCriteria(input)).toEqual({ ...expected, raw: input })
  })

  it.each([
    [null, 'invalid params: filter must be an object'],
    [[], 'invalid params: filter must be an object'],
    [{ blockHash: TOPIC }, 'invalid params: blockHash is not allowed in eth_newFilter (use eth_getLogs)'],
    [{ address: '0x1234' }, 'invalid params: address "0x1234" is not a 20-byte hex address'],
    [{ address: [ADDRESS, 7] }, 'invalid params: address 7 is not a 20-byte hex address'],
    [{ address: 5 }, 'invalid params: address must be an address or an array of addresses'],
    [{ topics: TOPIC }, 'invalid params: topics must be an array'],
    [{ topics: [null, null, null, null, null] }, 'invalid params: topics has 5 positions, at most 4 are allowed'],
    [{ topics: [null, ['0x12']] }, 'invalid params: topics[1] "0x12" is not a 32-byte hex topic'],
    [{ fromBlock: 'safe' }, "invalid params: fromBlock 'safe' is not supported by the filter emulation; use a block number"],
    [{ toBlock: 'finalized' }, "invalid params: toBlock 'finalized' is not supported by the filter emulation; use a block number"],
    [{ toBlock: 12 }, 'invalid params: toBlock 12 is not a block number or tag'],
    [{ fromBlock: '0xzz' }, 'invalid params: fromBlock "0xzz" is not a block number or tag'],
  ])('refuses %j like a node, with -32602', (input, message) => {
    let thrown: unknown
    try {
      parseLogCriteria(input)
    } catch (e) {
      thrown = e
    }
    expect(isResilientRpcError(thrown, 'RPC_ERROR')).toBe(true)
    expect(thrown).toMatchObject({ rpcCode: -32602, rpcMessage: message })
  })
})
