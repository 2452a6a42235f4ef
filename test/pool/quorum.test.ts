import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/index.js'
import { HttpError } from '../../src/errors/endpoint.js'
import type { QuorumError } from '../../src/errors/request.js'
import { canonicalJson, quorumRead, type AskOutcome, type QuorumHost } from '../../src/pool/quorum.js'
import { systemClock } from '../../src/util/clock.js'
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
