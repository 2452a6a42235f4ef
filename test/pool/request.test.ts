import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/index.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// A request around its retry loop (src/pool/request.ts): one deadline, the caller's signal, shared
// flights. Scripted fetch, fake timers; hedging off (it changes how many upstream requests a call makes).
const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })

describe('deadlines', () => {
  it('bounds the whole request, across attempts, by its timeout, and aborts the in-flight fetch', async () => {
    for (const h of ['a', 'b', 'c']) fake.set(h, { kind: 'hang' })
    const p = makePool({ attemptTimeout: 1_000 })
    const { outcome, done } = start(p.request('eth_blockNumber', [], { timeout: 2_500 }))
    await vi.advanceTimersByTimeAsync(2_499)
    expect(outcome.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(isResilientRpcError(outcome.error, 'TIMEOUT')).toBe(true)
    expect(outcome.error).toMatchObject({ scope: 'request', timeout: 2_500 })
    // Two attempts timed out and the third was cut by the deadline; every fetch saw its signal abort.
    expect((outcome.error as { attempts: unknown[] }).attempts).toHaveLength(3)
    expect(fake.calls).toHaveLength(3)
    expect(fake.calls.every((c) => c.signal.aborted)).toBe(true)
  })

  it('applies the pool default timeout when the call gives none', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({ defaultTimeout: 700, attemptTimeout: 10_000 }, ['http://a'])
    const { outcome, done } = start(p.request('eth_blockNumber'))
    await vi.advanceTimersByTimeAsync(700)
    await done
    expect(outcome.error).toMatchObject({ code: 'TIMEOUT', scope: 'request', timeout: 700 })
  })

  it('a caller abort stops the fetch, rejects with ABORTED and counts against nobody', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({}, ['http://a'])
    const controller = new AbortController()
    const { outcome, done } = start(p.request('eth_blockNumber', [], { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(50)
    controller.abort(new Error('user went away'))
    await done
    // The caller is answered at once; the aborted fetch unwinds right after.
    await vi.advanceTimersByTimeAsync(0)
    expect(isResilientRpcError(outcome.error, 'ABORTED')).toBe(true)
    expect((outcome.error as Error).cause).toEqual(new Error('user went away'))
    expect(fake.calls[0]!.signal.aborted).toBe(true)
    expect(p.stats().endpoints[0]).toMatchObject({ failures: 0, served: 0, consecutiveFailures: 0, inFlight: 0 })
  })

  it('rejects at once for an already aborted signal, without sending', async () => {
    fake.set('a', { kind: 'ok' })
    const p = makePool({}, ['http://a'])
    await expect(p.request('eth_blockNumber', [], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' })
    expect(fake.calls).toHaveLength(0)
  })

  it('waits for an endpoint while none can take the request, then lists why each is out', async () => {
    fake.set('a', { kind: 'status', status: 401 })
    fake.set('b', { kind: 'status', status: 429, headers: { 'retry-after': '30' } })
    const p = makePool({}, ['http://a', 'http://b'])
    const { outcome, done } = start(p.request('eth_blockNumber', [], { timeout: 5_000 }))
    await vi.advanceTimersByTimeAsync(5_000)
    await done
    expect(isResilientRpcError(outcome.error, 'NO_ENDPOINT')).toBe(true)
    const error = outcome.error as { excluded: { endpoint: string; reason: string }[] }
    expect(error.excluded.map((e) => e.endpoint)).toEqual(['http://a:80#0', 'http://b:80#1'])
    expect(error.excluded[0]!.reason).toMatch(/^HTTP 401/)
    expect(error.excluded[1]!.reason).toMatch(/^Rate limited \(retry after 30000 ms\)/)
  })
})

describe('de-duplication', () => {
  it('identical concurrent reads share one upstream request', async () => {
    fake.set('a', { kind: 'ok', result: '0x2a', delay: 10 })
    const p = makePool({ dedupe: true }, ['http://a'])
    const all = Promise.all(Array.from({ length: 5 }, () => p.request('eth_call', [{ to: '0x1' }, 'latest'])))
    await vi.advanceTimersByTimeAsync(10)
    expect(await all).toEqual(Array(5).fill('0x2a'))
    expect(fake.calls).toHaveLength(1)
    // Different params, or a write, are separate requests.
    await Promise.all([p.request('eth_call', [{ to: '0x2' }, 'latest']), p.request('eth_call', [{ to: '0x3' }, 'latest']), vi.advanceTimersByTimeAsync(10)])
    expect(fake.calls).toHaveLength(3)
    await Promise.all([p.request('eth_sendRawTransaction', ['0x01']), p.request('eth_sendRawTransaction', ['0x01']), vi.advanceTimersByTimeAsync(10)])
    expect(fake.calls).toHaveLength(5)
  })

  it('the shared request is aborted only when every caller has left', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({ dedupe: true }, ['http://a'])
    const first = new AbortController()
    const a = start(p.request('eth_getBalance', ['0x1', 'latest'], { signal: first.signal }))
    const b = start(p.request('eth_getBalance', ['0x1', 'latest'], { timeout: 500 }))
    await vi.advanceTimersByTimeAsync(10)
    expect(fake.calls).toHaveLength(1)
    first.abort()
    await a.done
    expect(a.outcome.error).toMatchObject({ code: 'ABORTED' })
    expect(fake.calls[0]!.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(490)
    await b.done
    expect(b.outcome.error).toMatchObject({ code: 'TIMEOUT', scope: 'request' })
    expect(fake.calls[0]!.signal.aborted).toBe(true)
  })
})
