import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/index.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// The façade (src/pool/pool.ts): destroy, listener isolation, argument checks. Scripted fetch, fake timers.
const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })

describe('destroy', () => {
  it('aborts pool.signal with POOL_DESTROYED, once', async () => {
    const p = makePool({}, ['http://a'])
    const reasons: unknown[] = []
    p.signal.addEventListener('abort', () => reasons.push(p.signal.reason))
    expect(p.signal.aborted).toBe(false)
    await p.destroy()
    await p.destroy()
    expect(reasons).toHaveLength(1)
    expect(isResilientRpcError(reasons[0], 'POOL_DESTROYED')).toBe(true)
  })

  it('rejects pending requests, rejects later ones at once, and leaves no timer behind', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({}, ['http://a'])
    const pending = start(p.request('eth_blockNumber'))
    await vi.advanceTimersByTimeAsync(10)
    await p.destroy()
    await pending.done
    expect(isResilientRpcError(pending.outcome.error, 'POOL_DESTROYED')).toBe(true)
    expect(fake.calls[0]!.signal.aborted).toBe(true)
    await expect(p.request('eth_blockNumber')).rejects.toMatchObject({ code: 'POOL_DESTROYED' })
    await p.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects requests waiting for an endpoint', async () => {
    fake.set('a', { kind: 'status', status: 429, headers: { 'retry-after': '60' } })
    const p = makePool({}, ['http://a'])
    const waiting = start(p.request('eth_blockNumber'))
    await vi.advanceTimersByTimeAsync(100)
    expect(waiting.outcome.settled).toBe(false)
    await p.destroy()
    await waiting.done
    expect(waiting.outcome.error).toMatchObject({ code: 'POOL_DESTROYED' })
  })
})

describe('isolation', () => {
  it('a throwing listener does not break requests; it is reported as an error event', async () => {
    fake.set('a', { kind: 'status', status: 429 })
    fake.set('b', { kind: 'ok' })
    const p = makePool({}, ['http://a', 'http://b'])
    const reported: unknown[] = []
    p.on('endpoint:state', () => {
      throw new Error('listener bug')
    })
    p.on('error', (e) => reported.push(e))
    await expect(p.request('eth_blockNumber')).resolves.toBe('0x1')
    expect(reported).toEqual([new Error('listener bug')])
  })

  it('rejects bad call arguments with INVALID_OPTION', async () => {
    const p = makePool({}, ['http://a'])
    await expect(p.request('')).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'method' })
    await expect(p.request('eth_call', {} as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'params' })
    await expect(p.request('eth_call', [], { timeout: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'timeout' })
  })
})
