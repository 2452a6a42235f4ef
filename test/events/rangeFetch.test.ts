import { describe, expect, it } from 'vitest'
import { HttpError, RpcResponseError } from '../../src/errors/endpoint.js'
import { RetriesExhaustedError } from '../../src/errors/request.js'
import { CanonicalChain } from '../../src/events/chain.js'
import { Progress } from '../../src/events/checkpoint.js'
import { createEventDecoder, type WatchedEvent } from '../../src/events/decoder.js'
import { fetchRange } from '../../src/events/rangeFetch.js'
import { RangeSize } from '../../src/events/rangeSize.js'
import type { WatchState } from '../../src/events/state.js'
import type { Pool } from '../../src/pool/pool.js'

// One by-number range of the backfill: what is asked, when the range shrinks instead, what is refused.

const TOPIC = `0x${'11'.repeat(32)}`
const hash = (n: number, branch = 'a') => `0x${branch.repeat(2)}${n.toString(16).padStart(62, '0')}`
const log = (block: number, index: number, branch = 'a') => ({
  address: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
  topics: [TOPIC],
  data: '0x',
  blockNumber: `0x${block.toString(16)}`,
  blockHash: hash(block, branch),
  transactionHash: hash(block * 100 + index, 'c'),
  transactionIndex: '0x0',
  logIndex: `0x${index.toString(16)}`,
})

function setup(answer: (from: number, to: number) => unknown, maxBufferedLogs = 100) {
  const asked: Array<[number, number]> = []
  const events: string[] = []
  const checkpoints: bigint[] = []
  const pool = {
    async request(_method: string, params: Array<{ fromBlock: string; toBlock: string }>) {
      const [from, to] = [Number(params[0]!.fromBlock), Number(params[0]!.toBlock)]
      asked.push([from, to])
      const a = answer(from, to)
      if (a instanceof Error) throw a
      return a
    },
  } as unknown as Pool
  const range = new RangeSize({ initial: 8 })
  const state: WatchState = {
    pool,
    signal: new AbortController().signal,
    filter: { topics: [TOPIC] },
    decoder: createEventDecoder({ topics: [TOPIC] }),
    chain: new CanonicalChain(4),
    range,
    progress: new Progress(async (b) => void checkpoints.push(b)),
    maxBufferedLogs,
    deliver: async (e: WatchedEvent) => (events.push(`${e.blockNumber}:${e.logIndex}`), true),
  }
  return { state, asked, events, checkpoints, range }
}

const refusal = new RpcResponseError({ code: -32005, message: 'query returned more than 10000 results' })

describe('fetchRange', () => {
  it('delivers the range in chain order, once each, then checkpoints its end', async () => {
    const t = setup(() => [log(3, 1), log(2, 0), log(3, 0), log(3, 1)])
    await fetchRange(t.state, 1n, 4n)
    expect(t.asked).toEqual([[1, 4]])
    expect(t.events).toEqual(['2:0', '3:0', '3:1'])
    expect(t.checkpoints).toEqual([4n])
  })

  it.each([
    ['a range refusal', refusal],
    ['a range refusal every endpoint gave', new RetriesExhaustedError({ attempts: [], cause: refusal })],
    ['HTTP 413', new HttpError(413)],
  ])('%s shrinks the range and delivers nothing', async (_, error) => {
    const t = setup(() => error)
    await fetchRange(t.state, 1n, 8n)
    expect(t.range.size).toBe(4)
    expect(t.events).toEqual([])
    expect(t.checkpoints).toEqual([])
  })

  it('another error, or a refusal of a single block, is thrown', async () => {
    const t = setup(() => new RpcResponseError({ code: -32005, message: 'daily request count exceeded, request rate limited' }))
    await expect(fetchRange(t.state, 1n, 8n)).rejects.toMatchObject({ code: 'RPC_ERROR' })
    const u = setup(() => refusal)
    await expect(fetchRange(u.state, 5n, 5n)).rejects.toBe(refusal)
    expect(t.range.size).toBe(8)
  })

  it('more logs than maxBufferedLogs shrink the range, unless it is one block', async () => {
    const t = setup((from) => [log(from, 0), log(from, 1), log(from, 2)], 2)
    await fetchRange(t.state, 1n, 2n)
    expect(t.range.size).toBe(4)
    expect(t.events).toEqual([])
    await fetchRange(t.state, 1n, 1n)
    expect(t.events).toEqual(['1:0', '1:1', '1:2'])
  })

  it('refuses logs outside the range, removed logs and one block under two hashes', async () => {
    await expect(fetchRange(setup(() => [log(9, 0)]).state, 1n, 8n)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' })
    await expect(fetchRange(setup(() => [{ ...log(2, 0), removed: true }]).state, 1n, 8n)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' })
    await expect(fetchRange(setup(() => [log(2, 0), log(2, 1, 'b')]).state, 1n, 8n)).rejects.toMatchObject({ code: 'INVALID_RESPONSE', message: expect.stringContaining('mixed two hashes for block 2') })
    await expect(fetchRange(setup(() => ({ logs: [] })).state, 1n, 8n)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' })
  })

  it('stops at an event the handler did not take, without a checkpoint', async () => {
    const t = setup(() => [log(2, 0), log(3, 0)])
    let calls = 0
    const state = { ...t.state, deliver: async () => ++calls < 2 }
    await fetchRange(state, 1n, 4n)
    expect(calls).toBe(2)
    expect(t.checkpoints).toEqual([])
  })
})
