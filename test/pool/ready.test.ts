import { describe, expect, it, vi } from 'vitest'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { createFakeFetch } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'
import { createManualClock } from '../support/manualClock.js'

// pool.ready() (src/pool/ready.ts): waits for endpoints to pass their first heartbeat, woken by every
// change (never polling), bounded by its timeout on the pool's clock.

describe('ready', () => {
  const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b'], random: () => 0.5, heartbeat: { interval: 1_000, timeout: 200 } })

  it('resolves once minHealthy endpoints answered a heartbeat on the chain', async () => {
    fake.set('a', (c) => ({ kind: 'ok', result: c.method === 'eth_chainId' ? '0x1' : '0x10' }))
    fake.set('b', { kind: 'hang' })
    const p = makePool({ chainId: 1 })
    let settled = false
    const one = p.ready({ timeout: 5_000 }).then(() => (settled = true))
    await vi.advanceTimersByTimeAsync(100)
    expect(settled).toBe(true)
    await one
    // The second one never comes: the wait for two ends with NOT_READY at its timeout, naming what is out.
    const two = p.ready({ minHealthy: 2, timeout: 1_000 }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(1_000)
    const error = await two
    expect(isResilientRpcError(error, 'NOT_READY') && error.excluded.map((x) => x.endpoint)).toEqual(['http://b:80#1'])
  })

  it('rejects with ABORTED when its signal aborts, and POOL_DESTROYED when the pool goes', async () => {
    fake.set('a', { kind: 'hang' })
    fake.set('b', { kind: 'hang' })
    const p = makePool()
    const controller = new AbortController()
    const aborted = p.ready({ signal: controller.signal }).catch((e: unknown) => e)
    controller.abort()
    expect(await aborted).toMatchObject({ code: 'ABORTED' })
    const destroyed = p.ready().catch((e: unknown) => e)
    await p.destroy()
    expect(await destroyed).toMatchObject({ code: 'POOL_DESTROYED' })
  })

  it('validates minHealthy against the number of endpoints', async () => {
    const p = makePool()
    for (const minHealthy of [0, 3, 1.5]) await expect(p.ready({ minHealthy })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'minHealthy' })
  })
})

describe('ready on an injected clock', () => {
  it('times out on the pool clock, not on the global timers', async () => {
    const clock = createManualClock()
    const fake = createFakeFetch({ a: { kind: 'network' } })
    const p = createPool({ endpoints: ['http://a'], fetch: fake.fetch, clock, heartbeat: { interval: 60_000 } })
    try {
      let outcome: unknown
      const waiting = p.ready({ timeout: 2_000 }).then(
        () => (outcome = 'ready'),
        (e: unknown) => (outcome = e),
      )
      await clock.advance(1_999)
      expect(outcome).toBeUndefined()
      await clock.advance(1)
      expect(outcome).toMatchObject({ code: 'NOT_READY' })
      await waiting
    } finally {
      await p.destroy()
    }
  })
})
