import * as client from 'prom-client'
import { expect, it } from 'vitest'
import { createPrometheusMetrics } from '../../src/index.js'
import { waitFor } from '../support/async.js'
import { balances, getBalance } from '../support/getBalance.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// The Prometheus adapter against anvil through two fault proxies: one endpoint answers HTTP 500, its
// failures and the retries they cause are counted, it goes down and falls behind while the chain moves.

// Unnamed, with API keys in their URLs: the labels are the redacted URLs, which must not carry the keys.
const node = useProxiedAnvil({ http: 2, named: false, keyed: true })
const [A, B] = [0, 1]

/** Sample lines of the exposition text, by metric name and label subset. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

it('counts the failing endpoint’s errors and the retries they cost, and reports heads and lag as it falls behind', async () => {
  const registry = new client.Registry()
  const pool = node.pool({ chainId: 31337, heartbeat: { interval: 50, timeout: 500, failuresToDown: 2 }, hedge: false, attemptTimeout: 2_000 })
  const metrics = createPrometheusMetrics(pool, { client, registry })
  node.defer(() => metrics.close())
  await pool.ready({ minHealthy: 2, timeout: 10_000 })
  const [idA, idB] = pool.stats().endpoints.map((e) => e.endpoint) as [string, string]
  const start = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
  await waitFor(() => pool.stats().endpoints.every((e) => e.head === start), 'both heads at the start block')

  // 1. A answers 500: reads that tried it first were retried on B, and all succeeded.
  node.http[A]!.setMode({ kind: 'http500' })
  node.http[A]!.resetCounts()
  const reads = 20
  await Promise.all(Array.from({ length: reads }, (_, i) => getBalance(pool, i)))
  const failedOnA = balances(node.http[A]!)
  expect(failedOnA).toBeGreaterThan(0)

  // 2. A request no endpoint can serve: anvil refuses an unknown method (final, not retried on B).
  await expect(pool.request('foo_bar')).rejects.toBeDefined()

  // 3. A goes down (failed heartbeats), its head stays where it was while the chain moves on.
  await waitFor(() => pool.stats().endpoints[A]!.status === 'down', 'A down')
  await node.anvil.mine(5)
  await waitFor(() => pool.referenceHead() === start + 5n, 'the reference head at start + 5')

  const text = await registry.metrics()
  expect(text).not.toContain('SECRET')
  expect(value(text, 'resilient_rpc_requests_total', { method: 'eth_getBalance', outcome: 'ok' })).toBe(reads)
  expect(value(text, 'resilient_rpc_retries_total', { method: 'eth_getBalance', endpoint: idA, code: 'HTTP_ERROR' })).toBe(failedOnA)
  expect(value(text, 'resilient_rpc_endpoint_failures_total', { endpoint: idA })).toBe(failedOnA + (node.http[A]!.methodCounts()['foo_bar'] ?? 0))
  const unknownMethod = text.split('\n').filter((l) => l.startsWith('resilient_rpc_requests_total{method="foo_bar"'))
  expect(unknownMethod).toEqual(['resilient_rpc_requests_total{method="foo_bar",outcome="RPC_ERROR"} 1'])
  expect(value(text, 'resilient_rpc_request_duration_seconds_count', { method: 'eth_getBalance', outcome: 'ok' })).toBe(reads)

  expect(value(text, 'resilient_rpc_endpoint_status', { endpoint: idA, status: 'down' })).toBe(1)
  expect(value(text, 'resilient_rpc_endpoint_status', { endpoint: idB, status: 'up' })).toBe(1)
  expect(value(text, 'resilient_rpc_endpoint_status_changes_total', { endpoint: idA, status: 'down' })).toBe(1)
  expect(value(text, 'resilient_rpc_reference_head_block')).toBe(Number(start + 5n))
  expect(value(text, 'resilient_rpc_endpoint_head_block', { endpoint: idB })).toBe(Number(start + 5n))
  expect(value(text, 'resilient_rpc_endpoint_lag_blocks', { endpoint: idB })).toBe(0)
  expect(value(text, 'resilient_rpc_endpoint_head_block', { endpoint: idA })).toBe(Number(start))
  expect(value(text, 'resilient_rpc_endpoint_lag_blocks', { endpoint: idA })).toBe(5)
})
