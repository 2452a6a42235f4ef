import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/index.js'
import { HttpError } from '../../src/errors/endpoint.js'
import type { QuorumError } from '../../src/errors/request.js'
import { canonicalJson, quorumRead, type AskOutcome, type QuorumHost } from '../../src/pool/quorum.js'
import { systemClock } from '../../src/util/clock.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

describe('canonicalJson', () => {
  it('sorts keys at every depth and lower-cases hex, so equal answers compare equal', () => {
    const a = { hash: '0xABCDEF', nested: { z: 1, a: ['0xFF', 'Text'] }, n: null }
    const b = { n: null, nested: { a: ['0xff', 'Text'], z: 1 }, hash: '0xabcdef' }
    expect(canonicalJson(a)).toBe(canonicalJson(b))
    expect(canonicalJson(a)).toBe('{"hash":"0xabcdef","n":null,"nested":{"a":["0xff","Text"],"z":1}}')
  })

  it('keeps what differs: non-hex case, numbers, types', () => {
    expect(canonicalJson('Text')).not.toBe(canonicalJson('text'))
    expect(canonicalJson('0x1')).not.toBe(canonicalJson('0x01'))
    expect(canonicalJson(1)).not.toBe(canonicalJson('1'))
    expect(canonicalJson(undefined)).toBe('null')
  })
})

/** A host whose endpoints answer from a script, each after a delay on the fake clock. */
function scriptedHost(script: Array<{ id: string; answer: unknown; delay?: number } | { id: string; fail: true; delay?: number }>, budget = Infinity) {
  const asks: string[] = []
  let extras = 0
  const host: QuorumHost = {
    clock: systemClock,
    ask(asked, signal) {
      const index = script.findIndex((_, i) => !asked.has(i))
      asked.add(index)
      const entry = script[index]!
      asks.push(entry.id)
      return new Promise<AskOutcome>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort)
          resolve('fail' in entry ? { endpoint: entry.id, error: new HttpError(500, { endpoint: entry.id }) } : { endpoint: entry.id, result: entry.answer })
        }, entry.delay ?? 10)
        const onAbort = () => (clearTimeout(timer), reject(signal.reason))
        signal.addEventListener('abort', onAbort, { once: true })
      })
    },
    askable: (asked) => script.length - asked.size,
    first: () => {},
    extra: () => extras++ < budget,
  }
  return { host, asks }
}

describe('quorumRead', () => {
  useCheckedFakeTimers()

  it('asks k endpoints in parallel and resolves when they agree, without asking more', async () => {
    const { host, asks } = scriptedHost([{ id: 'A', answer: '0x1' }, { id: 'B', answer: '0x1' }, { id: 'C', answer: '0x1' }])
    const read = start(quorumRead(host, 2, new AbortController().signal))
    await vi.advanceTimersByTimeAsync(0)
    expect(asks).toEqual(['A', 'B'])
    await vi.advanceTimersByTimeAsync(10)
    await read.done
    expect(read.outcome.value).toBe('0x1')
    expect(asks).toEqual(['A', 'B'])
  })

  it('on a disagreement asks one more, and the majority wins; the slow asks left are aborted', async () => {
    const { host, asks } = scriptedHost([
      { id: 'A', answer: { v: '0xAA' } },
      { id: 'B', answer: { v: '0xbb' } },
      { id: 'C', answer: { v: '0xaa' } },
      { id: 'D', answer: { v: '0xaa' }, delay: 1_000 },
    ])
    const read = start(quorumRead(host, 2, new AbortController().signal))
    await vi.advanceTimersByTimeAsync(10)
    expect(asks).toEqual(['A', 'B', 'C'])
    await vi.advanceTimersByTimeAsync(10)
    await read.done
    expect(read.outcome.value).toEqual({ v: '0xAA' })
    expect(asks).toEqual(['A', 'B', 'C'])
  })

  it('replaces a failed ask, and lists failures and answers when nobody is left', async () => {
    const { host, asks } = scriptedHost([
      { id: 'A', answer: '0x1' },
      { id: 'B', fail: true },
      { id: 'C', answer: '0x2' },
    ])
    const read = start(quorumRead(host, 2, new AbortController().signal))
    await vi.advanceTimersByTimeAsync(30)
    await read.done
    expect(asks).toEqual(['A', 'B', 'C'])
    const error = read.outcome.error as QuorumError
    expect(isResilientRpcError(error, 'QUORUM_FAILED')).toBe(true)
    expect(error.answers).toEqual([
      { result: '0x1', endpoints: ['A'] },
      { result: '0x2', endpoints: ['C'] },
    ])
    expect(error.message).toMatchInlineSnapshot(`
      "Quorum not reached: 2 distinct answers, at most 1 of 2 agreeing
      Details: A: "0x1"; C: "0x2"
      Attempts:
        1. B (10 ms): [HTTP_ERROR] HTTP 500"
    `)
  })

  it('extra asks need the retry budget: refused, the read fails with what it heard', async () => {
    const { host, asks } = scriptedHost([{ id: 'A', answer: '0x1' }, { id: 'B', answer: '0x2' }, { id: 'C', answer: '0x1' }], 0)
    const read = start(quorumRead(host, 2, new AbortController().signal))
    await vi.advanceTimersByTimeAsync(10)
    await read.done
    expect(asks).toEqual(['A', 'B'])
    expect(read.outcome.error).toMatchObject({ code: 'QUORUM_FAILED', answers: [{ endpoints: ['A'] }, { endpoints: ['B'] }] })
  })

  it('a deadline rejects with what was heard, the TimeoutError as its cause; an abort with its reason', async () => {
    const { host } = scriptedHost([{ id: 'A', answer: '0x1' }, { id: 'B', answer: '0x1', delay: 5_000 }])
    const controller = new AbortController()
    const read = start(quorumRead(host, 2, controller.signal))
    await vi.advanceTimersByTimeAsync(100)
    const { TimeoutError } = await import('../../src/errors/request.js')
    controller.abort(new TimeoutError('request', 100))
    await read.done
    expect(read.outcome.error).toMatchObject({ code: 'QUORUM_FAILED', answers: [{ result: '0x1', endpoints: ['A'] }] })
    expect((read.outcome.error as Error).cause).toMatchObject({ code: 'TIMEOUT' })

    const other = scriptedHost([{ id: 'A', answer: '0x1', delay: 50 }, { id: 'B', answer: '0x1', delay: 50 }])
    const aborting = new AbortController()
    const aborted = start(quorumRead(other.host, 2, aborting.signal))
    aborting.abort(new Error('bye'))
    await aborted.done
    expect(aborted.outcome.error).toEqual(new Error('bye'))
  })
})

describe('pool.request with { quorum }', () => {
  const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false })
  const ADDR = '0x00000000000000000000000000000000000000aa'

  /** Every host answers eth_blockNumber 0x10; eth_getBalance as `balances[host]`. */
  function answer(balances: Record<string, Behaviour>) {
    for (const host of Object.keys(balances)) {
      fake.set(host, (call: FetchCall) => (call.method === 'eth_blockNumber' ? { kind: 'ok', result: '0x10' } : balances[host]!))
    }
  }

  it('returns the answer two endpoints agree on, pinning a latest read to one block', async () => {
    answer({ a: { kind: 'ok', result: '0x64' }, b: { kind: 'ok', result: '0x999' }, c: { kind: 'ok', result: '0x64' } })
    const p = makePool()
    await expect(p.request('eth_getBalance', [ADDR, 'latest'], { quorum: 2 })).resolves.toBe('0x64')
    const reads = fake.calls.filter((c) => c.method === 'eth_getBalance')
    // Each endpoint asked once, every one about block 0x10.
    expect(reads.map((c) => c.host).sort()).toEqual(['a', 'b', 'c'])
    expect(reads.every((c) => c.params[1] === '0x10')).toBe(true)
  })

  it('pins an eth_getLogs range that ends at latest to the same block on every endpoint', async () => {
    const logs = { kind: 'ok', result: [] } as const
    answer({ a: logs, b: logs, c: logs })
    const p = makePool()
    await expect(p.request('eth_getLogs', [{ address: ADDR, fromBlock: '0x1', toBlock: 'latest' }], { quorum: 2 })).resolves.toEqual([])
    const reads = fake.calls.filter((c) => c.method === 'eth_getLogs')
    expect(reads.length).toBeGreaterThanOrEqual(2)
    expect(reads.every((c) => JSON.stringify(c.params[0]) === JSON.stringify({ address: ADDR, fromBlock: '0x1', toBlock: '0x10' }))).toBe(true)
  })

  it('never asks one endpoint twice, even the fastest one', async () => {
    // Weighted round-robin with a heavy a would pick a again and again; a's lie must count once.
    answer({ a: { kind: 'ok', result: '0x1' }, b: { kind: 'ok', result: '0x2' }, c: { kind: 'ok', result: '0x3' } })
    const p = makePool({ endpoints: [{ url: 'http://a', weight: 100 }, 'http://b', 'http://c'], strategy: 'weighted-round-robin' })
    const error = await p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 2 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'QUORUM_FAILED' })
    expect(fake.calls.map((c) => c.host).sort()).toEqual(['a', 'b', 'c'])
  })

  it('rejects with QUORUM_FAILED listing each distinct answer and who gave it', async () => {
    answer({ a: { kind: 'ok', result: '0x64' }, b: { kind: 'ok', result: '0x65' }, c: { kind: 'ok', result: '0x66' } })
    const p = makePool()
    const error = (await p.request('eth_getBalance', [ADDR], { quorum: 2 }).catch((e: unknown) => e)) as QuorumError
    expect(isResilientRpcError(error, 'QUORUM_FAILED')).toBe(true)
    expect(error.answers.map((a) => [a.result, a.endpoints]).sort()).toEqual([
      ['0x64', ['http://a:80#0']],
      ['0x65', ['http://b:80#1']],
      ['0x66', ['http://c:80#2']],
    ])
  })

  it('a failing endpoint is replaced by the next; the failure is listed if the read fails', async () => {
    answer({ a: { kind: 'status', status: 500 }, b: { kind: 'ok', result: '0x64' }, c: { kind: 'ok', result: '0x64' } })
    const p = makePool()
    await expect(p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 2 })).resolves.toBe('0x64')
    // Pinned already: no eth_blockNumber asked.
    expect(fake.calls.filter((c) => c.method === 'eth_blockNumber')).toHaveLength(0)
    expect(p.stats().endpoints[0]!.failures).toBe(1)
  })

  it('validates: an integer from 1 to the number of endpoints, reads only', async () => {
    answer({ a: { kind: 'ok' }, b: { kind: 'ok' }, c: { kind: 'ok' } })
    const p = makePool()
    await expect(p.request('eth_getBalance', [ADDR], { quorum: 4 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'quorum' })
    await expect(p.request('eth_getBalance', [ADDR], { quorum: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(p.request('eth_sendRawTransaction', ['0x00'], { quorum: 2 })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    expect(fake.calls).toHaveLength(0)
  })

  it('is bounded by the request deadline, and destroy() ends it', async () => {
    answer({ a: { kind: 'ok', result: '0x64' }, b: { kind: 'hang' }, c: { kind: 'hang' } })
    const p = makePool({ attemptTimeout: 60_000 })
    const read = start(p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 2, timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(1_000)
    await read.done
    expect(read.outcome.error).toMatchObject({ code: 'QUORUM_FAILED', answers: [{ result: '0x64' }] })
    expect(fake.calls.filter((c) => c.method === 'eth_getBalance').every((c) => c.signal.aborted || c.host === 'a')).toBe(true)

    const pending = start(p.request('eth_getBalance', [ADDR, '0x5'], { quorum: 3 }))
    await vi.advanceTimersByTimeAsync(10)
    await p.destroy()
    await pending.done
    expect(pending.outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
  })
})
