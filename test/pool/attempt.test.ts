import { describe, expect, it, vi } from 'vitest'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// One attempt's outcome recorded on its endpoint (src/pool/attempt.ts): what trips, half-opens and closes
// a breaker, and what never touches it. Scripted fetch, fake timers; hedging and de-duplication off.
const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0, heartbeat: false, hedge: false, dedupe: false })

describe('circuit breaker', () => {
  it('opens after failures, moves traffic, half-opens after resetTimeout and closes on a successful trial', async () => {
    fake.set('a', { kind: 'network' })
    fake.set('b', { kind: 'ok' })
    // Round-robin keeps sending to `a` (least-connections would avoid it after its first failure).
    const p = makePool({ strategy: 'weighted-round-robin', breaker: { volumeThreshold: 3, resetTimeout: 1_000 } }, ['http://a', 'http://b'])
    const events: string[] = []
    p.on('circuit:open', (e) => events.push(`open ${e.endpoint}`))
    p.on('circuit:halfOpen', (e) => events.push(`halfOpen ${e.endpoint}`))
    p.on('circuit:close', (e) => events.push(`close ${e.endpoint}`))
    for (let i = 0; i < 6; i++) await p.request('eth_blockNumber')
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
    const sentToA = fake.callsTo('a').length
    for (let i = 0; i < 5; i++) await p.request('eth_blockNumber')
    expect(fake.callsTo('a')).toHaveLength(sentToA)
    fake.set('a', { kind: 'ok' })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')
    for (let i = 0; i < 3; i++) await p.request('eth_blockNumber')
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]!.breaker).toBe('closed')
    expect(events).toEqual(['open http://a:80#0', 'halfOpen http://a:80#0', 'close http://a:80#0'])
  })

  it('neutral outcomes never close a half-open breaker: a revert and a caller abort leave it half-open', async () => {
    fake.set('a', { kind: 'network' })
    const p = makePool({ breaker: { volumeThreshold: 1, resetTimeout: 1_000 }, retries: 0 }, ['http://a'])
    await p.request('eth_blockNumber').catch(() => {})
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')

    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted' })
    await expect(p.request('eth_call', [{}, 'latest'])).rejects.toMatchObject({ code: 'RPC_ERROR' })
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')

    fake.set('a', { kind: 'hang' })
    const controller = new AbortController()
    const aborted = start(p.request('eth_blockNumber', [], { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(10)
    controller.abort()
    await aborted.done
    await vi.advanceTimersByTimeAsync(0)
    expect(aborted.outcome.error).toMatchObject({ code: 'ABORTED' })
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')
  })

  it('counts attempts cut by a short request deadline as failures, so a hanging endpoint trips', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({ breaker: { volumeThreshold: 3 } }, ['http://a'])
    for (let i = 0; i < 3; i++) {
      const r = start(p.request('eth_blockNumber', [], { timeout: 50 }))
      await vi.advanceTimersByTimeAsync(50)
      await r.done
      expect(r.outcome.error).toMatchObject({ code: 'TIMEOUT', scope: 'request' })
    }
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
  })
})
