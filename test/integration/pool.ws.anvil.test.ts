import { describe, expect, it } from 'vitest'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { createPool } from '../../src/index.js'
import { waitFor } from '../support/async.js'
import { balances, getBalance } from '../support/getBalance.js'
import { runInChild } from '../support/runInChild.js'

// WebSocket endpoints in the pool, next to HTTP ones, against anvil through fault proxies.

const node = useProxiedAnvil({ http: 1, ws: 2, pool: { chainId: 31337, attemptTimeout: 500, heartbeat: { interval: 100, timeout: 400 } } })


describe('WebSocket endpoints in the pool', () => {
  it('serve requests next to HTTP ones, verified by chain id before they count as up', async () => {
    const p = await node.pool({ endpoints: [node.ws[0]!, node.http[0]!], strategy: 'weighted-round-robin' }, { ready: 2 })
    expect(node.ws[0]!.methodCounts()['eth_chainId']).toBeGreaterThanOrEqual(1)
    for (let i = 0; i < 10; i++) expect(await getBalance(p, i)).toBe('0x0')
    expect(balances(node.ws[0]!)).toBeGreaterThan(0)
    expect(balances(node.http[0]!)).toBeGreaterThan(0)
  })

  it('a dropped socket takes the endpoint down at once; it reconnects with back-off and serves again', async () => {
    const p = node.pool({ endpoints: node.ws, strategy: 'weighted-round-robin' })
    const reconnects: number[] = []
    p.on('reconnect:attempt', (e) => e.endpoint === 'ws0' && reconnects.push(e.attempt))
    await p.ready({ minHealthy: 2, timeout: 5_000 })
    node.ws[0]!.setMode({ kind: 'drop' })
    await waitFor(() => p.stats().endpoints[0]!.status === 'down', 'ws0 to go down')
    node.ws[0]!.resetCounts()
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => getBalance(p, i)))
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(balances(node.ws[0]!)).toBe(0)
    node.ws[0]!.setMode({ kind: 'pass' })
    await waitFor(() => p.stats().endpoints[0]!.status === 'up', 'ws0 to come back', 10_000)
    expect(reconnects.length).toBeGreaterThan(0)
    // The new connection proved its chain again before serving.
    expect(node.ws[0]!.methodCounts()['eth_chainId']).toBeGreaterThanOrEqual(1)
    for (let i = 0; i < 10; i++) await getBalance(p, i)
    expect(balances(node.ws[0]!)).toBeGreaterThan(0)
  })

  it('a silent socket is found out and its requests fail over', async () => {
    const p = await node.pool({ endpoints: [node.ws[0]!, node.http[0]!] }, { ready: 2 })
    node.ws[0]!.setMode({ kind: 'silent' })
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => getBalance(p, i)))
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    await waitFor(() => p.stats().endpoints[0]!.status === 'down', 'ws0 to be marked down')
  })

  it('takes the WebSocket keepalive and give-up policy from the pool options', async () => {
    const p = await node.pool(
      { endpoints: [node.ws[0]!, node.http[0]!], webSocket: { keepalive: { interval: 50, timeout: 100, mode: 'ping' }, reconnect: { initial: 20, maxAttempts: 2 } } },
      { ready: 2 },
    )
    await waitFor(() => node.ws[0]!.pings() >= 2, 'protocol pings every 50 ms')
    const reconnects: number[] = []
    p.on('reconnect:attempt', (e) => reconnects.push(e.attempt))
    node.ws[0]!.setMode({ kind: 'drop' })
    await waitFor(() => reconnects.length === 2, 'two reconnect attempts')
    // Gave up after two: no third attempt follows, and the endpoint stays down.
    await new Promise((r) => setTimeout(r, 500))
    expect(reconnects).toEqual([1, 2])
    expect(p.stats().endpoints[0]!.status).toBe('down')
    expect(await getBalance(p)).toBe('0x0')
  })

  it('rejects an invalid WebSocket option when the pool is created', () => {
    expect(() => createPool({ endpoints: [node.ws[0]!.url], webSocket: { reconnect: { initial: -1 } } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
  })

  it('leaves nothing running after destroy(): a child with a WebSocket endpoint exits on its own', async () => {
    const result = await runInChild('test/integration/fixtures/destroyWsPool.ts', { env: { ENDPOINT: node.ws[0]!.url }, timeout: 10_000 })
    expect(result.stderr).toBe('')
    expect(result.stdout.trim()).toBe('0x7a69')
    expect(result.exitedOnItsOwn).toBe(true)
  })
})
