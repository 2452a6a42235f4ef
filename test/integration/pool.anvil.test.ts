import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPool, isResilientRpcError, type Pool, type PoolOptions } from '../../src/index.js'
import { startAnvil, type Anvil } from '../support/anvil.js'
import { createFaultProxy, type FaultProxy } from '../support/faultProxy.js'
import { runInChild } from '../support/runInChild.js'

// One anvil, three fault proxies in front of it: three endpoints of one chain. Assertions are on
// request counts at the proxies and on typed outcomes, never on wall-clock times.

let anvil: Anvil
let proxies: FaultProxy[]
let pool: Pool | undefined
const [A, B, C] = [0, 1, 2]

beforeAll(async () => {
  anvil = await startAnvil()
  proxies = await Promise.all([0, 1, 2].map(() => createFaultProxy(anvil.url)))
})

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()))
  await anvil.stop()
})

beforeEach(() => {
  for (const p of proxies) {
    p.setMode({ kind: 'pass' })
    p.resetCounts()
  }
})

afterEach(async () => {
  await pool?.destroy()
  pool = undefined
})

function makePool(options: Partial<PoolOptions> = {}): Pool {
  pool = createPool({
    endpoints: proxies.map((p, i) => ({ url: p.url, name: 'ABC'[i]! })),
    attemptTimeout: 400,
    breaker: { resetTimeout: 300, volumeThreshold: 3 },
    ...options,
  })
  return pool
}

const counts = () => proxies.map((p) => p.count())
const waitFor = async (check: () => boolean, what: string, ms = 5_000) => {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('pool against anvil through fault proxies', () => {
  it('serves real answers, balanced over every endpoint', async () => {
    const p = makePool()
    const results = await Promise.all(Array.from({ length: 30 }, () => p.request<string>('eth_chainId')))
    expect(new Set(results)).toEqual(new Set(['0x7a69']))
    // Least-connections spreads concurrent load: nobody is left out.
    for (const n of counts()) expect(n).toBeGreaterThan(0)
  })

  it('a hanging endpoint costs each request at most one attempt', async () => {
    proxies[A]!.setMode({ kind: 'hang' })
    const p = makePool({ breaker: { volumeThreshold: 1000 } })
    const retriesOnA: number[] = []
    p.on('request:retry', (e) => e.endpoint === 'A' && retriesOnA.push(e.attempt))
    const n = 12
    const results = await Promise.all(Array.from({ length: n }, (_, i) => p.request<string>('eth_getBalance', [`0x${(i + 1).toString(16).padStart(40, '0')}`, 'latest'])))
    expect(results).toEqual(Array(n).fill('0x0'))
    // Every request that met A moved on after that one attempt: A saw at most one per request.
    expect(proxies[A]!.count()).toBeLessThanOrEqual(n)
    expect(retriesOnA.length).toBe(proxies[A]!.count())
    expect(retriesOnA.every((attempt) => attempt === 1)).toBe(true)
  })

  it("a dead endpoint's breaker opens and traffic moves; it closes again once the endpoint recovers", async () => {
    proxies[A]!.setMode({ kind: 'reset' })
    const p = makePool({ strategy: 'weighted-round-robin' })
    for (let i = 0; i < 12; i++) await p.request('eth_blockNumber')
    expect(p.stats().endpoints[A]!.breaker).toBe('open')
    const seenByA = proxies[A]!.count()
    for (let i = 0; i < 12; i++) await p.request('eth_blockNumber')
    expect(proxies[A]!.count()).toBe(seenByA)

    proxies[A]!.setMode({ kind: 'pass' })
    await waitFor(() => p.stats().endpoints[A]!.breaker === 'half-open', 'half-open')
    for (let i = 0; i < 12; i++) await p.request('eth_blockNumber')
    expect(p.stats().endpoints[A]!.breaker).toBe('closed')
    expect(proxies[A]!.count()).toBeGreaterThan(seenByA + 1)
  })

  it('never retries a revert', async () => {
    // Runtime code PUSH1 0 PUSH1 0 REVERT: every call reverts.
    const reverter = '0x00000000000000000000000000000000000000aa'
    await anvil.rpc('anvil_setCode', [reverter, '0x60006000fd'])
    const p = makePool()
    const error = await p.request('eth_call', [{ to: reverter, data: '0x' }, 'latest']).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'RPC_ERROR')).toBe(true)
    expect((error as { rpcMessage: string }).rpcMessage).toMatch(/revert/i)
    expect(proxies.reduce((sum, x) => sum + (x.methodCounts()['eth_call'] ?? 0), 0)).toBe(1)
  })

  it('a caller abort stops the fetch: the connection to the hanging endpoint is closed', async () => {
    // A proxy of its own: no idle keep-alive connection from another test can blur the count.
    const hanging = await createFaultProxy(anvil.url, { mode: { kind: 'hang' } })
    try {
      pool = createPool({ endpoints: [hanging.url], attemptTimeout: 60_000 })
      const controller = new AbortController()
      const pending = pool.request('eth_blockNumber', [], { signal: controller.signal }).catch((e: unknown) => e)
      await waitFor(() => hanging.count() === 1, 'the request to arrive')
      expect(hanging.closedConnections()).toBe(0)
      controller.abort()
      expect(await pending).toMatchObject({ code: 'ABORTED' })
      // Closed at once, not at the end of some keep-alive timeout (Node's fetch then opens a spare idle one).
      await waitFor(() => hanging.closedConnections() === 1, 'the connection to close', 1_000)
    } finally {
      await hanging.close()
    }
  })

  it('short-deadline calls to a hanging endpoint open its breaker; an aborted call leaves it open', async () => {
    proxies[A]!.setMode({ kind: 'hang' })
    pool = createPool({ endpoints: [proxies[A]!.url], breaker: { volumeThreshold: 3, resetTimeout: 60_000 } })
    for (let i = 0; i < 3; i++) {
      expect(await pool.request('eth_blockNumber', [], { timeout: 100 }).catch((e: unknown) => e)).toMatchObject({ code: 'TIMEOUT' })
    }
    // The outcome of an attempt cut by the deadline is recorded as the fetch unwinds, just after the request settles.
    await waitFor(() => pool!.stats().endpoints[0]!.breaker === 'open', 'the breaker to open')
    const controller = new AbortController()
    const waiting = pool.request('eth_blockNumber', [], { signal: controller.signal, timeout: 1_000 }).catch((e: unknown) => e)
    controller.abort()
    expect(await waiting).toMatchObject({ code: 'ABORTED' })
    expect(pool.stats().endpoints[0]!.breaker).toBe('open')
    expect(proxies[A]!.count()).toBe(3)
  })

  it('honours 429 Retry-After: the endpoint cools down and the request fails over', async () => {
    proxies[A]!.setMode({ kind: 'http429', retryAfter: 30 })
    const p = makePool()
    for (let i = 0; i < 10; i++) await p.request('eth_blockNumber')
    expect(proxies[A]!.count()).toBe(1)
    expect(p.stats().endpoints[A]).toMatchObject({ status: 'cooldown', lastError: { code: 'RATE_LIMITED' } })
  })

  it('takes an endpoint answering 401 out of rotation; its requests fail over', async () => {
    proxies[B]!.setMode({ kind: 'http401' })
    const p = makePool()
    for (let i = 0; i < 10; i++) await expect(p.request('eth_blockNumber')).resolves.toMatch(/^0x/)
    expect(proxies[B]!.count()).toBe(1)
    expect(p.stats().endpoints[B]).toMatchObject({ status: 'unauthorized', statusReason: 'HTTP 401: endpoint refused the credentials' })
  })

  it('retries garbage and 5xx elsewhere', async () => {
    proxies[A]!.setMode({ kind: 'garbage' })
    proxies[B]!.setMode({ kind: 'http500' })
    const p = makePool()
    for (let i = 0; i < 6; i++) await expect(p.request('eth_blockNumber')).resolves.toMatch(/^0x/)
    expect(proxies[C]!.count()).toBeGreaterThanOrEqual(6)
  })

  it('fails with a typed error listing every attempt when every endpoint is down', async () => {
    for (const x of proxies) x.setMode({ kind: 'http500' })
    const p = makePool({ retries: 2, backoff: { initial: 1 } })
    const error = await p.request('eth_blockNumber').catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'RETRIES_EXHAUSTED')).toBe(true)
    expect((error as { attempts: { endpoint: string }[] }).attempts.map((a) => a.endpoint).sort()).toEqual(['A', 'B', 'C'])
  })

  it('rides through a flapping endpoint without losing a request', async () => {
    proxies[A]!.setMode({ kind: 'flap', upMs: 30, downMs: 30 })
    const p = makePool()
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => p.request('eth_blockNumber')))
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
  })

  it('never shows an API key, password or auth header anywhere', async () => {
    const secrets = ['SECRETKEY1', 'SECRETKEY2', 'SECRETKEY3', 'hunter2', 'Bearer-SECRET-TOKEN']
    proxies[A]!.setMode({ kind: 'http401' })
    proxies[B]!.setMode({ kind: 'garbage' })
    proxies[C]!.setMode({ kind: 'http429' })
    const seen: string[] = []
    pool = createPool({
      endpoints: [
        { url: `${proxies[A]!.url}/v3/SECRETKEY1`, headers: { Authorization: 'Bearer Bearer-SECRET-TOKEN' } },
        `${proxies[B]!.url}/v2/SECRETKEY2?apikey=SECRETKEY3`,
        proxies[C]!.url.replace('http://', 'http://user:hunter2@'),
      ],
      attemptTimeout: 400,
      retries: 2,
    })
    for (const event of ['endpoint:state', 'circuit:open', 'request:retry'] as const) {
      pool.on(event, (e: unknown) => seen.push(JSON.stringify(e), String((e as { reason?: Error }).reason?.message), String((e as { error?: Error }).error?.message)))
    }
    const error = (await pool.request('eth_blockNumber', [], { timeout: 2_000 }).catch((e: unknown) => e)) as Error
    expect(isResilientRpcError(error)).toBe(true)
    seen.push(error.message, JSON.stringify(error), JSON.stringify(pool.stats()))
    // The credentials did reach the endpoints, just never our output.
    expect(proxies[A]!.lastHeaders()['authorization']).toBe('Bearer Bearer-SECRET-TOKEN')
    expect(proxies[C]!.lastHeaders()['authorization']).toBe(`Basic ${btoa('user:hunter2')}`)
    const output = seen.join('\n')
    for (const secret of [...secrets, '/v3/', '/v2/', 'apikey', 'user:']) expect(output).not.toContain(secret)
    expect(output).toContain('http://127.0.0.1:')
  })

  it('leaves nothing running after destroy(): a child using a hanging endpoint exits on its own', async () => {
    proxies[A]!.setMode({ kind: 'hang' })
    const result = await runInChild('test/integration/fixtures/destroyWhileHanging.ts', { env: { ENDPOINT: proxies[A]!.url }, timeout: 10_000 })
    expect(result.stderr).toBe('')
    expect(result.stdout.trim()).toBe('POOL_DESTROYED')
    expect(result.exitedOnItsOwn).toBe(true)
    expect(result.code).toBe(0)
  })
})
