import { beforeEach, describe, expect, it, vi } from 'vitest'
import { type Pool } from '../../src/index.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// The heartbeat loop through the public API, with a scripted fetch and fake timers: chain id on every
// new connection, head and latency on every ping, down after consecutive failures, back after a success.

const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], random: () => 0.5, heartbeat: { interval: 1_000, timeout: 500, failuresToDown: 2 } })
const heads: Record<string, number> = {}

/** A node at `heads[host]` on chain `chainId`, answering everything else with `0x0`. */
function node(host: string, chainId = 1): (call: FetchCall) => Behaviour {
  return (call) => {
    if (call.method === 'eth_chainId') return { kind: 'ok', result: `0x${chainId.toString(16)}` }
    if (call.method === 'eth_blockNumber') return { kind: 'ok', result: `0x${(heads[host] ?? 0).toString(16)}` }
    return { kind: 'ok', result: '0x0' }
  }
}

const pings = (host: string, method = 'eth_blockNumber') => fake.callsTo(host).filter((c) => c.method === method).length
const statuses = (p: Pool) => p.stats().endpoints.map((e) => e.status)

beforeEach(() => {
  for (const h of ['a', 'b', 'c']) {
    heads[h] = 100
    fake.set(h, node(h))
  }
})

describe('heartbeat', () => {
  it('verifies chain and head before an endpoint serves, then pings on the jittered interval', async () => {
    const p = makePool()
    expect(statuses(p)).toEqual(['connecting', 'connecting', 'connecting'])
    await vi.advanceTimersByTimeAsync(50)
    expect(statuses(p)).toEqual(['up', 'up', 'up'])
    expect(fake.calls.slice(0, 2).map((c) => c.method)).toEqual(['eth_chainId', 'eth_blockNumber'])
    expect(p.stats()).toMatchObject({ chainId: 1n, referenceHead: 100n })
    // random 0.5 puts each ping exactly one interval after the last one.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pings('a')).toBe(2)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(pings('a')).toBe(5)
    // The chain id is checked once per connection, not on every ping.
    expect(pings('a', 'eth_chainId')).toBe(1)
  })

  it('marks an endpoint down after consecutive failed pings and back up, with a new chain check, after a success', async () => {
    const p = makePool()
    const events: string[] = []
    p.on('endpoint:state', (e) => e.endpoint.startsWith('http://b') && events.push(`${e.from}->${e.to}:${e.reason?.code ?? ''}`))
    await vi.advanceTimersByTimeAsync(50)
    fake.set('b', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)[1]).toBe('up')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)[1]).toBe('down')
    fake.set('b', node('b'))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)[1]).toBe('up')
    expect(pings('b', 'eth_chainId')).toBe(2)
    expect(events).toEqual(['connecting->up:', 'up->down:NETWORK', 'down->up:'])
  })

  it('a timed-out ping counts as a failure', async () => {
    const p = makePool({}, ['http://a'])
    await vi.advanceTimersByTimeAsync(50)
    fake.set('a', { kind: 'hang' })
    await vi.advanceTimersByTimeAsync(1_000 + 500 + 1_000 + 500)
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'down', lastError: { code: 'TIMEOUT' } })
  })

  it('leaves a rate-limited endpoint alone until its cool-down ends', async () => {
    const p = makePool({}, ['http://a', 'http://b'])
    await vi.advanceTimersByTimeAsync(50)
    fake.set('a', { kind: 'status', status: 429, headers: { 'retry-after': '5' } })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)[0]).toBe('cooldown')
    const during = fake.callsTo('a').length
    await vi.advanceTimersByTimeAsync(3_900)
    expect(fake.callsTo('a')).toHaveLength(during)
    fake.set('a', node('a'))
    await vi.advanceTimersByTimeAsync(1_200)
    expect(statuses(p)[0]).toBe('up')
  })

  it('is the half-open trial: requests skip a half-open endpoint, a good ping closes its breaker', async () => {
    const p = makePool({ breaker: { volumeThreshold: 1, resetTimeout: 300 }, strategy: 'weighted-round-robin' }, ['http://a', 'http://b'])
    await vi.advanceTimersByTimeAsync(50)
    // Requests fail on A while its pings still pass: only the breaker can take it out.
    fake.set('a', (call) => (call.method === 'eth_getBalance' ? { kind: 'network' } : node('a')(call)))
    await p.request('eth_getBalance', ['0x1', 'latest'])
    await p.request('eth_getBalance', ['0x1', 'latest'])
    await vi.advanceTimersByTimeAsync(0)
    expect(p.stats().endpoints[0]!.breaker).toBe('open')
    await vi.advanceTimersByTimeAsync(300)
    expect(p.stats().endpoints[0]!.breaker).toBe('half-open')
    const before = fake.callsTo('a').filter((c) => c.method === 'eth_getBalance').length
    for (let i = 0; i < 4; i++) await p.request('eth_getBalance', ['0x1', 'latest'])
    expect(fake.callsTo('a').filter((c) => c.method === 'eth_getBalance')).toHaveLength(before)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(p.stats().endpoints[0]!.breaker).toBe('closed')
  })

  it('pings draw from the rate limit with priority: never past the rate, late by at most one token', async () => {
    const sent: Array<{ at: number; method: string }> = []
    const t0 = Date.now()
    fake.set('a', (call) => (sent.push({ at: Date.now() - t0, method: call.method }), node('a')(call)))
    const p = makePool({ heartbeat: { interval: 500, timeout: 500, failuresToDown: 2, jitter: 0 } }, [{ url: 'http://a', rateLimit: { perSecond: 10, burst: 1 } }] as never)
    // 30 requests at once keep the endpoint saturated; the heartbeat still gets its tokens.
    const all = Promise.all(Array.from({ length: 30 }, (_, i) => p.request('eth_getBalance', [`0x${i + 1}`, 'latest'])))
    await vi.advanceTimersByTimeAsync(6_000)
    await all
    expect(sent.filter((s) => s.method === 'eth_blockNumber').length).toBeGreaterThanOrEqual(8)
    expect(sent.filter((s) => s.method === 'eth_getBalance')).toHaveLength(30)
    // 10/s with a burst of 1: no two requests of any kind closer than 100 ms apart.
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(100)
  })

  it('stop() aborts a ping in flight and clears every timer', async () => {
    fake.set('a', { kind: 'hang' })
    const p = makePool({}, ['http://a'])
    await vi.advanceTimersByTimeAsync(50)
    const ping = fake.callsTo('a')[0]!
    expect(ping.signal.aborted).toBe(false)
    await p.destroy()
    expect(ping.signal.aborted).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('survives a listener that throws on every event', async () => {
    const p = makePool({}, ['http://a'])
    const errors: unknown[] = []
    p.on('endpoint:state', () => {
      throw new Error('listener bug')
    })
    p.on('error', (e) => errors.push(e))
    await vi.advanceTimersByTimeAsync(50)
    fake.set('a', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(2_000)
    fake.set('a', node('a'))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)).toEqual(['up'])
    expect(errors).toHaveLength(3)
  })
})

describe('chain identity', () => {
  it('without a configured chain id, the first two agreeing endpoints decide; the odd one is quarantined', async () => {
    fake.set('b', node('b', 5))
    const p = makePool()
    await vi.advanceTimersByTimeAsync(50)
    expect(statuses(p)).toEqual(['up', 'quarantined', 'up'])
    expect(p.stats().endpoints[1]).toMatchObject({ chainId: 5n, lastError: { code: 'CHAIN_MISMATCH' } })
    // Quarantined for the pool's life: no more pings.
    const calls = fake.callsTo('b').length
    await vi.advanceTimersByTimeAsync(5_000)
    expect(fake.callsTo('b')).toHaveLength(calls)
  })

  it('a second endpoint agreeing within the grace decides at once, and the pool says which chain it adopted from whom', async () => {
    fake.set('b', { kind: 'network' })
    // c answers slowly: its second opinion comes 600 ms into a's grace.
    fake.set('c', (call) => ({ ...node('c')(call), delay: 300 }) as Behaviour)
    const p = makePool()
    const adopted: unknown[] = []
    p.on('chain:adopted', (e) => adopted.push(e))
    await vi.advanceTimersByTimeAsync(50)
    expect(statuses(p)[0]).toBe('connecting')
    expect(p.stats().endpoints[0]!.statusReason).toMatch(/waiting up to 1000 ms for a second endpoint to confirm chain id 1/)
    await vi.advanceTimersByTimeAsync(650)
    expect(statuses(p)).toEqual(['up', 'connecting', 'up'])
    expect(adopted).toEqual([{ chainId: 1n, endpoints: ['http://a:80#0', 'http://c:80#2'] }])
  })

  it('alone, the one endpoint that answers serves 1 s after its first report; an endpoint on another chain later is quarantined', async () => {
    fake.set('b', { kind: 'network' })
    fake.set('c', { kind: 'network' })
    const p = makePool()
    const adopted: unknown[] = []
    p.on('chain:adopted', (e) => adopted.push(e))
    const served = p.request('eth_getBalance', ['0x1', 'latest'], { timeout: 5_000 })
    await vi.advanceTimersByTimeAsync(999)
    expect(statuses(p)[0]).toBe('connecting')
    await vi.advanceTimersByTimeAsync(60)
    expect(statuses(p)[0]).toBe('up')
    expect(adopted).toEqual([{ chainId: 1n, endpoints: ['http://a:80#0'] }])
    await expect(served).resolves.toBe('0x0')
    // The pool never switches chains: b comes up on chain 5 and is quarantined, naming both ids.
    const reasons: string[] = []
    p.on('endpoint:state', (e) => e.to === 'quarantined' && reasons.push(e.reason?.message ?? ''))
    fake.set('b', node('b', 5))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)).toEqual(['up', 'quarantined', 'down'])
    expect(reasons).toEqual([expect.stringMatching(/endpoint is on chain 5, the pool on chain 1/)])
    await expect(p.request('eth_getBalance', ['0x1', 'latest'])).resolves.toBe('0x0')
  })

  it('once endpoints on another chain outnumber the adopted one, nothing is served: CHAIN_MISMATCH naming both ids', async () => {
    fake.set('b', { kind: 'network' })
    fake.set('c', { kind: 'network' })
    const p = makePool()
    const conflicts: unknown[] = []
    p.on('chain:conflict', (e) => conflicts.push(e))
    await vi.advanceTimersByTimeAsync(1_100)
    expect(statuses(p)[0]).toBe('up')
    fake.set('b', node('b', 5))
    fake.set('c', node('c', 5))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)).toEqual(['up', 'quarantined', 'quarantined'])
    expect(conflicts).toEqual([{ chainId: 1n, other: 5n }])
    const error = await p.request('eth_getBalance', ['0x1', 'latest']).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'CHAIN_MISMATCH', expected: 1n, actual: 5n })
    expect((error as Error).message).toMatch(/endpoints on chain 5 outnumber those on chain 1.*set chainId/)
    await expect(p.ready({ timeout: 100 })).rejects.toMatchObject({ code: 'CHAIN_MISMATCH' })
    expect(() => p.requestEach('eth_blockNumber')).toThrow(expect.objectContaining({ code: 'CHAIN_MISMATCH' }))
  })

  it('endpoints that disagree after the grace, one each, wait: nothing is served from a chain in doubt', async () => {
    fake.set('b', node('b', 5))
    fake.set('c', { kind: 'network' })
    const p = makePool()
    await vi.advanceTimersByTimeAsync(1_100)
    expect(statuses(p)).toEqual(['connecting', 'connecting', 'down'])
    expect(p.stats().endpoints[0]!.statusReason).toMatch(/endpoints disagree on the chain id \(1 vs 5\): set chainId/)
    // A third opinion settles it.
    fake.set('c', node('c', 5))
    await vi.advanceTimersByTimeAsync(2_000)
    expect(statuses(p)).toEqual(['quarantined', 'up', 'up'])
  })

  it('a configured chain id quarantines any endpoint on another chain', async () => {
    const p = makePool({ chainId: 5 })
    await vi.advanceTimersByTimeAsync(50)
    expect(statuses(p)).toEqual(['quarantined', 'quarantined', 'quarantined'])
    const pending = p.request('eth_blockNumber', [], { timeout: 100 }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(100)
    const error = await pending
    expect(error).toMatchObject({ code: 'NO_ENDPOINT' })
    expect((error as Error).message).toMatch(/quarantined: Chain mismatch: endpoint is on chain 1, the pool on chain 5/)
  })

  it('an endpoint that is up proves its chain again every chainCheckInterval, and one that moved to another chain is quarantined', async () => {
    const p = makePool({ chainId: 1, heartbeat: { interval: 1_000, timeout: 500, failuresToDown: 2, chainCheckInterval: 5_000 } })
    const events: string[] = []
    p.on('endpoint:state', (e) => events.push(`${e.endpoint.slice(0, 8)} ${e.to}:${e.reason?.code ?? ''}`))
    await vi.advanceTimersByTimeAsync(50)
    expect(statuses(p)).toEqual(['up', 'up', 'up'])
    await vi.advanceTimersByTimeAsync(4_000)
    expect(pings('a', 'eth_chainId')).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pings('a', 'eth_chainId')).toBe(2)
    // The load balancer behind b's URL now routes to a node of another chain.
    fake.set('b', node('b', 5))
    await vi.advanceTimersByTimeAsync(5_000)
    expect(statuses(p)).toEqual(['up', 'quarantined', 'up'])
    expect(events).toContain('http://b quarantined:CHAIN_MISMATCH')
    const before = fake.callsTo('b').length
    await vi.advanceTimersByTimeAsync(10_000)
    // Quarantined for good: no more pings, and no request goes there.
    expect(fake.callsTo('b').length).toBe(before)
    await expect(p.request('eth_getBalance', ['0x1', 'latest'])).resolves.toBe('0x0')
    expect(fake.callsTo('b').length).toBe(before)
  })

  it('chainCheckInterval Infinity checks the chain only on a new connection', async () => {
    makePool({ heartbeat: { interval: 1_000, timeout: 500, failuresToDown: 2, chainCheckInterval: Infinity } })
    await vi.advanceTimersByTimeAsync(120_000)
    expect(pings('a')).toBeGreaterThan(100)
    expect(pings('a', 'eth_chainId')).toBe(1)
  })
})

describe('lag and the reference head', () => {
  it('retries a null answer from an endpoint behind the reference head on one at the head', async () => {
    heads.a = 90
    const p = makePool({ maxLag: 20 })
    await vi.advanceTimersByTimeAsync(50)
    expect(statuses(p)).toEqual(['up', 'up', 'up'])
    fake.set('a', (call) => (call.method === 'eth_getTransactionReceipt' ? { kind: 'ok', result: null } : node('a')(call)))
    fake.set('b', (call) => (call.method === 'eth_getTransactionReceipt' ? { kind: 'ok', result: { status: '0x1' } } : node('b')(call)))
    fake.set('c', (call) => (call.method === 'eth_getTransactionReceipt' ? { kind: 'ok', result: { status: '0x1' } } : node('c')(call)))
    for (let i = 0; i < 3; i++) await expect(p.request('eth_getTransactionReceipt', ['0xabc'])).resolves.toEqual({ status: '0x1' })
    expect(fake.callsTo('a').some((c) => c.method === 'eth_getTransactionReceipt')).toBe(true)
  })

  it('a null from an endpoint at the head is the answer', async () => {
    const p = makePool({}, ['http://a'])
    await vi.advanceTimersByTimeAsync(50)
    fake.set('a', (call) => (call.method === 'eth_getTransactionReceipt' ? { kind: 'ok', result: null } : node('a')(call)))
    await expect(p.request('eth_getTransactionReceipt', ['0xabc'])).resolves.toBeNull()
    expect(fake.callsTo('a').filter((c) => c.method === 'eth_getTransactionReceipt')).toHaveLength(1)
  })

  it('marks an endpoint more than maxLag behind as lagging, with the reason in the event', async () => {
    const p = makePool({ maxLag: 3 })
    const events: string[] = []
    p.on('endpoint:state', (e) => e.to === 'lagging' && events.push(`${e.endpoint} ${e.reason?.code} ${e.reason?.shortMessage}`))
    await vi.advanceTimersByTimeAsync(50)
    heads.b = 110
    heads.c = 110
    await vi.advanceTimersByTimeAsync(1_000)
    expect(p.stats().endpoints[0]).toMatchObject({ status: 'lagging', lag: 10n })
    expect(events).toEqual(['http://a:80#0 LAGGING Endpoint is 10 blocks behind the reference head 110'])
  })

  it('a single endpoint answering first with a bogus head does not hold the reference once two agree', async () => {
    heads.c = 10_000
    fake.set('a', (call) => (call.method === 'eth_chainId' ? { kind: 'ok', delay: 20, result: '0x1' } : node('a')(call)))
    fake.set('b', (call) => (call.method === 'eth_chainId' ? { kind: 'ok', delay: 20, result: '0x1' } : node('b')(call)))
    const p = makePool({ chainId: 1 })
    // First pings go out at 25 ms (random 0.5); C answers at once, A and B 20 ms later.
    await vi.advanceTimersByTimeAsync(30)
    expect(p.stats().referenceHead).toBe(10_000n)
    await vi.advanceTimersByTimeAsync(100)
    expect(p.stats().referenceHead).toBe(100n)
    expect(statuses(p)).toEqual(['up', 'up', 'ahead'])
  })
})

describe('who may outvote whom', () => {
  it('endpoints in a cool-down (not pinged) do not vote with their stale heads', async () => {
    const p = makePool()
    await vi.advanceTimersByTimeAsync(50)
    fake.set('a', { kind: 'status', status: 429, headers: { 'retry-after': '30' } })
    fake.set('b', { kind: 'status', status: 429, headers: { 'retry-after': '30' } })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(statuses(p)).toEqual(['cooldown', 'cooldown', 'up'])
    heads.c = 110
    await vi.advanceTimersByTimeAsync(2_000)
    // a and b still say 100 from before their cool-down; c alone is live and its word is the head.
    expect(p.stats().referenceHead).toBe(110n)
    expect(statuses(p)[2]).toBe('up')
  })

  it('an endpoint whose cool-down is over has no vote until a ping reads its head again', async () => {
    const p = makePool({ rateLimitCooldown: 1_500 })
    await vi.advanceTimersByTimeAsync(50)
    fake.set('a', { kind: 'status', status: 429 })
    fake.set('b', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(1_500)
    heads.c = 110
    await vi.advanceTimersByTimeAsync(550)
    expect(statuses(p)).toEqual(['cooldown', 'down', 'up'])
    expect(p.stats().referenceHead).toBe(110n)
    // The cool-down ends; a's next ping is slow to answer, c's ping lands first.
    fake.set('a', { kind: 'ok', result: '0x64', delay: 300 })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pings('a')).toBe(3)
    // a's 100 is from before its cool-down: c's word still stands.
    expect(p.stats().referenceHead).toBe(110n)
  })

  it('with two endpoints, neither is distrusted for being ahead', async () => {
    heads.b = 150
    const p = makePool({ maxLag: 5, chainId: 1 }, ['http://a', 'http://b'])
    await vi.advanceTimersByTimeAsync(50)
    expect(statuses(p)).toEqual(['up', 'up'])
    for (let i = 0; i < 4; i++) await p.request('eth_getBalance', ['0x1', 'latest'])
    expect(fake.callsTo('b').some((c) => c.method === 'eth_getBalance')).toBe(true)
  })

  it('endpoints that are merely behind do not report a reorg when the ones at the head go down', async () => {
    heads.c = 80
    const p = makePool({ maxLag: 5 })
    const reorgs: unknown[] = []
    p.on('chain:reorg', (e) => reorgs.push(e))
    await vi.advanceTimersByTimeAsync(50)
    expect(p.stats().referenceHead).toBe(100n)
    fake.set('a', { kind: 'network' })
    fake.set('b', { kind: 'network' })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(statuses(p)).toEqual(['down', 'down', 'lagging'])
    expect(reorgs).toEqual([])
    expect(p.stats().referenceHead).toBe(100n)
  })

  it('a rollback seen by every live endpoint lowers the reference head with one chain:reorg', async () => {
    const p = makePool()
    const reorgs: unknown[] = []
    p.on('chain:reorg', (e) => reorgs.push(e))
    await vi.advanceTimersByTimeAsync(50)
    for (const h of ['a', 'b', 'c']) heads[h] = 95
    await vi.advanceTimersByTimeAsync(3_000)
    expect(reorgs).toEqual([{ from: 100n, to: 95n }])
    expect(p.stats().referenceHead).toBe(95n)
  })
})
