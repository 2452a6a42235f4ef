import { Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import { createEventDecoder } from '../../src/events/decoder.js'
import type { RpcLog } from '../../src/subscriptions/logs.js'
import { counterAbi } from '../fixtures/contracts/counter.js'

const iface = new Interface(counterAbi)
const PING = iface.getEvent('Ping')!.topicHash
const CHANGED = iface.getEvent('ValueChanged')!.topicHash
const tag = `0x${'ab'.repeat(32)}`

function pingLog(i: number, extra: Partial<RpcLog> = {}): RpcLog {
  const encoded = iface.encodeEventLog('Ping', [i, tag])
  return {
    address: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
    topics: encoded.topics,
    data: encoded.data,
    blockNumber: '0x10',
    blockHash: `0x${'11'.repeat(32)}`,
    transactionHash: `0x${'22'.repeat(32)}`,
    transactionIndex: '0x0',
    logIndex: `0x${i.toString(16)}`,
    removed: false,
    ...extra,
  }
}

describe('createEventDecoder', () => {
  it('eventName filters to its topic0 and decodes the arguments by name', () => {
    const d = createEventDecoder({ abi: counterAbi, eventName: 'Ping' })
    expect(d.topics).toEqual([PING])
    const e = d.decode(pingLog(3), false)
    expect(e).toMatchObject({ eventName: 'Ping', args: { i: 3n, tag }, blockNumber: 16n, logIndex: 3, removed: false, transactionHash: `0x${'22'.repeat(32)}` })
    expect(d.decode(pingLog(3), true).removed).toBe(true)
  })

  it('an ABI without eventName watches all its events; indexed topics narrow positions 1…', () => {
    const one = `0x${'00'.repeat(31)}07`
    const d = createEventDecoder({ abi: counterAbi, topics: [null, one] })
    expect(d.topics).toEqual([[PING, CHANGED], one])
  })

  it('without an ABI: topics go as given and events are raw', () => {
    const d = createEventDecoder({ topics: [PING] })
    expect(d.topics).toEqual([PING])
    expect(d.decode(pingLog(1), false)).toMatchObject({ eventName: undefined, args: undefined, logIndex: 1 })
    expect(createEventDecoder({}).topics).toBeUndefined()
  })

  it('a log that does not fit the ABI is an INVALID_ABI error, not a wrong event', () => {
    const d = createEventDecoder({ abi: counterAbi, eventName: 'Ping' })
    expect(() => d.decode(pingLog(1, { topics: [CHANGED] }), false)).toThrow(expect.objectContaining({ code: 'INVALID_ABI' }))
    expect(() => d.decode(pingLog(1, { data: '0x' }), false)).toThrow(expect.objectContaining({ code: 'INVALID_ABI' }))
  })

  it('rejects what it cannot filter on, at creation', () => {
    const invalid = expect.objectContaining({ code: 'INVALID_OPTION' })
    expect(() => createEventDecoder({ abi: counterAbi, eventName: 'Nope' })).toThrow(invalid)
    expect(() => createEventDecoder({ eventName: 'Ping' })).toThrow(invalid)
    expect(() => createEventDecoder({ topics: ['0x12'] })).toThrow(invalid)
    expect(() => createEventDecoder({ topics: [null, null, null, null, null] })).toThrow(invalid)
    expect(() => createEventDecoder({ abi: ['function f()'] })).toThrow(invalid)
    expect(() => createEventDecoder({ abi: ['event Broken(uint256 x'] })).toThrow(expect.objectContaining({ code: 'INVALID_ABI' }))
  })
})
