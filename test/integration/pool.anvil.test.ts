import { describe, expect, it } from 'vitest'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { createFaultProxy } from '../support/faultProxy.js'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { runInChild } from '../support/runInChild.js'
import { waitFor } from '../support/async.js'
import { balances, getBalance } from '../support/getBalance.js'

// One anvil, three fault proxies in front of it: three endpoints of one chain. Assertions are on
// request counts at the proxies and on typed outcomes, never on wall-clock times.

const node = useProxiedAnvil({ http: 3, pool: { attemptTimeout: 400, breaker: { resetTimeout: 300, volumeThreshold: 3 }, heartbeat: { interval: 1_000 } } })
const [A, B, C] = [0, 1, 2]


describe('pool against anvil through fault proxies', () => {
  it('serves real answers, balanced over every endpoint', async () => {
    const p = await node.pool({}, { ready: 3 })
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => getBalance(p, i)))
    expect(new Set(results)).toEqual(new Set(['0x0']))
    // Least-connections spreads concurrent load: nobody is left out.
    for (const x of node.http) expect(balances(x)).toBeGreaterThan(0)
  })

  it('a hanging endpoint costs each request at most one attempt', async () => {
    const p = await node.pool({ breaker: { volumeThreshold: 1000 } }, { ready: 3 })
    node.http[A]!.setMode({ kind: 'hang' })
    const retriesOnA: number[] = []
    let hedgedFromA = 0
    p.on('request:retry', (e) => e.endpoint === 'A' && retriesOnA.push(e.attempt))
    // On a loaded machine a slow answer elsewhere can make A's attempt lose a hedged race instead of timing out.
    p.on('request:hedge', (e) => e.endpoint === 'A' && hedgedFromA++)
    const n = 12
    const results = await Promise.all(Array.from({ length: n }, (_, i) => getBalance(p, i)))
    expect(results).toEqual(Array(n).fill('0x0'))
    // Every request that met A moved on after that one attempt: A saw at most one per request.
    expect(balances(node.http[A]!)).toBeLessThanOrEqual(n)
    expect(retriesOnA.length + hedgedFromA).toBe(balances(node.http[A]!))
    expect(retriesOnA.every((attempt) => attempt === 1)).toBe(true)
  })

  it("a dead endpoint's breaker opens and traffic moves; it closes again once the endpoint recovers", async () => {
    const p = await node.pool({ strategy: 'weighted-round-robin', heartbeat: { interval: 100 } }, { ready: 3 })
    node.http[A]!.setMode({ kind: 'reset' })
    for (let i = 0; i < 12; i++) await getBalance(p, i)
    // Requests open the breaker, unless (on a slow machine) two failed heartbeats took A down first.
    const a = p.stats().endpoints[A]!
    expect(a.breaker === 'open' || a.status === 'down').toBe(true)
    const seenByA = balances(node.http[A]!)
    for (let i = 0; i < 12; i++) await getBalance(p, i)
    expect(balances(node.http[A]!)).toBe(seenByA)

    // The heartbeat is the half-open trial (and the reconnection): once A answers again it closes.
    node.http[A]!.setMode({ kind: 'pass' })
    await waitFor(() => p.stats().endpoints[A]!.breaker === 'closed' && p.stats().endpoints[A]!.status === 'up', 'A to recover')
    for (let i = 0; i < 12; i++) await getBalance(p, i)
    expect(balances(node.http[A]!)).toBeGreaterThan(seenByA + 1)
  })

  it('never retries a revert', async () => {
    // Runtime code PUSH1 0 PUSH1 0 REVERT: every call reverts.
    const reverter = '0x00000000000000000000000000000000000000aa'
    await node.anvil.rpc('anvil_setCode', [reverter, '0x60006000fd'])
    const p = await node.pool({}, { ready: 3 })
    const error = await p.request('eth_call', [{ to: reverter, data: '0x' }, 'latest']).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'RPC_ERROR')).toBe(true)
    expect((error as { rpcMessage: string }).rpcMessage).toMatch(/revert/i)
    expect(node.calls('eth_call')).toBe(1)
  })

  it('a caller abort stops the fetch: the connection to the hanging endpoint is closed', async () => {
    // A proxy of its own: no idle keep-alive connection from another test can blur the count.
    const hanging = await createFaultProxy(node.anvil.url, { mode: { kind: 'hang' } })
    try {
      // No heartbeat: this is about the request's own fetch, on an endpoint trusted from the start.
      const pool = node.track(createPool({ endpoints: [hanging.url], attemptTimeout: 60_000, heartbeat: false }))
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
    node.http[A]!.setMode({ kind: 'hang' })
    const pool = node.track(createPool({ endpoints: [node.http[A]!.url], breaker: { volumeThreshold: 3, resetTimeout: 60_000 }, heartbeat: false }))
    for (let i = 0; i < 3; i++) {
      expect(await pool.request('eth_blockNumber', [], { timeout: 100 }).catch((e: unknown) => e)).toMatchObject({ code: 'TIMEOUT' })
    }
    // The outcome of an attempt cut by the deadline is recorded as the fetch unwinds, just after the request settles.
    await waitFor(() => pool.stats().endpoints[0]!.breaker === 'open', 'the breaker to open')
    const controller = new AbortController()
    const waiting = pool.request('eth_blockNumber', [], { signal: controller.signal, timeout: 1_000 }).catch((e: unknown) => e)
    controller.abort()
    expect(await waiting).toMatchObject({ code: 'ABORTED' })
    expect(pool.stats().endpoints[0]!.breaker).toBe('open')
    expect(node.http[A]!.count()).toBe(3)
  })

  it('honours 429 Retry-After: the endpoint cools down and the request fails over', async () => {
    // Round-robin, so A gets its turn whatever the latencies (least-connections favours the fastest).
    const p = await node.pool({ strategy: 'weighted-round-robin' }, { ready: 3 })
    node.http[A]!.setMode({ kind: 'http429', retryAfter: 30 })
    for (let i = 0; i < 10; i++) await getBalance(p, i)
    expect(balances(node.http[A]!)).toBe(1)
    expect(p.stats().endpoints[A]).toMatchObject({ status: 'cooldown', lastError: { code: 'RATE_LIMITED' } })
  })

  it('takes an endpoint answering 401 out of rotation; its requests fail over', async () => {
    const p = await node.pool({ strategy: 'weighted-round-robin' }, { ready: 3 })
    node.http[B]!.setMode({ kind: 'http401' })
    for (let i = 0; i < 10; i++) await expect(getBalance(p, i)).resolves.toBe('0x0')
    expect(balances(node.http[B]!)).toBe(1)
    expect(p.stats().endpoints[B]).toMatchObject({ status: 'unauthorized', statusReason: expect.stringMatching(/^HTTP 401: endpoint refused the credentials \(for \d+ ms more\)$/) })
  })

  it('retries garbage and 5xx elsewhere', async () => {
    const p = await node.pool({}, { ready: 3 })
    node.http[A]!.setMode({ kind: 'garbage' })
    node.http[B]!.setMode({ kind: 'http500' })
    for (let i = 0; i < 6; i++) await expect(getBalance(p, i)).resolves.toBe('0x0')
    expect(balances(node.http[C]!)).toBeGreaterThanOrEqual(6)
  })

  it('fails with a typed error listing every attempt when every endpoint is down', async () => {
    const p = await node.pool({ retries: 2, backoff: { initial: 1 } }, { ready: 3 })
    for (const x of node.http) x.setMode({ kind: 'http500' })
    const error = await getBalance(p).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'RETRIES_EXHAUSTED')).toBe(true)
    expect((error as { attempts: { endpoint: string }[] }).attempts.map((a) => a.endpoint).sort()).toEqual(['A', 'B', 'C'])
  })

  it('rides through a flapping endpoint without losing a request', async () => {
    const p = await node.pool({}, { ready: 3 })
    node.http[A]!.setMode({ kind: 'flap', upMs: 30, downMs: 30 })
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => getBalance(p, i)))
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
  })

  it('never shows an API key, password or auth header anywhere', async () => {
    const secrets = ['SECRETKEY1', 'SECRETKEY2', 'SECRETKEY3', 'hunter2', 'Bearer-SECRET-TOKEN']
    const seen: string[] = []
    const pool = node.track(createPool({
      endpoints: [
        { url: `${node.http[A]!.url}/v3/SECRETKEY1`, headers: { Authorization: 'Bearer Bearer-SECRET-TOKEN' } },
        `${node.http[B]!.url}/v2/SECRETKEY2?apikey=SECRETKEY3`,
        node.http[C]!.url.replace('http://', 'http://user:hunter2@'),
      ],
      attemptTimeout: 400,
      retries: 2,
      heartbeat: { interval: 100 },
    }))
    const json = (value: unknown) => JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
    for (const event of ['endpoint:state', 'circuit:open', 'request:retry'] as const) {
      pool.on(event, (e: unknown) => seen.push(json(e), String((e as { reason?: Error }).reason?.message), String((e as { error?: Error }).error?.message)))
    }
    await pool.ready({ minHealthy: 3, timeout: 5_000 })
    node.http[A]!.setMode({ kind: 'http401' })
    node.http[B]!.setMode({ kind: 'garbage' })
    node.http[C]!.setMode({ kind: 'http429' })
    const error = (await getBalance(pool).catch((e: unknown) => e)) as Error
    expect(isResilientRpcError(error)).toBe(true)
    seen.push(error.message, json(error), json(pool.stats()))
    // Let heartbeats hit the faults too, then look at everything once more.
    await waitFor(() => pool.stats().endpoints[B]!.status === 'down', 'B to go down')
    const late = (await pool.request('eth_getBalance', ['0x'.padEnd(42, '1'), 'latest'], { timeout: 300 }).catch((e: unknown) => e)) as Error
    seen.push(late.message, json(late), json(pool.stats()))
    // The credentials did reach the endpoints, just never our output.
    expect(node.http[A]!.lastHeaders()['authorization']).toBe('Bearer Bearer-SECRET-TOKEN')
    expect(node.http[C]!.lastHeaders()['authorization']).toBe(`Basic ${btoa('user:hunter2')}`)
    const output = seen.join('\n')
    for (const secret of [...secrets, '/v3/', '/v2/', 'apikey', 'user:']) expect(output).not.toContain(secret)
    expect(output).toContain('http://127.0.0.1:')
  })

  it('leaves nothing running after destroy(): a child using a hanging endpoint exits on its own', async () => {
    node.http[A]!.setMode({ kind: 'hang' })
    const result = await runInChild('test/integration/fixtures/destroyWhileHanging.ts', { env: { ENDPOINT: node.http[A]!.url }, timeout: 10_000 })
    expect(result.stderr).toBe('')
    expect(result.stdout.trim()).toBe('POOL_DESTROYED')
    expect(result.exitedOnItsOwn).toBe(true)
    expect(result.code).toBe(0)
  })
})
