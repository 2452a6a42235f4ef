import { EventEmitter } from 'eventemitter3'
import * as client from 'prom-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPool, createPrometheusMetrics, HttpError, type Pool, type PoolEvents, type PoolStats, type PrometheusMetrics } from '../../src/index.js'
import { createFakeFetch, type FakeFetch } from '../support/fakeFetch.js'

// The Prometheus adapter: samples with exact values after scripted traffic, the event-to-counter
// mapping, one stats() per scrape, close(), and option validation.

const A = 'http://a:80#0'
const B = 'http://b:80#1'

let fake: FakeFetch
let pool: Pool | undefined
let metrics: PrometheusMetrics | undefined
let registry: client.Registry

beforeEach(() => {
  vi.useFakeTimers()
  fake = createFakeFetch()
  registry = new client.Registry()
})

afterEach(async () => {
  metrics?.close()
  metrics = undefined
  await pool?.destroy()
  pool = undefined
  expect(vi.getTimerCount()).toBe(0)
  vi.useRealTimers()
})

/** The exposition text's sample lines (no HELP/TYPE), to assert exact values. */
async function samples(): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#'))
}

/** A pool stand-in: a real typed emitter plus a stats() that counts its calls. */
function fakeSource(stats: () => PoolStats = () => ({ chainId: 1n, referenceHead: undefined, retryBudget: undefined, endpoints: [] })) {
  const emitter = new EventEmitter<PoolEvents>()
  let statsCalls = 0
  const source = {
    on: emitter.on.bind(emitter) as never,
    off: emitter.off.bind(emitter) as never,
    stats: () => (statsCalls++, stats()),
  }
  return { emitter, source, statsCalls: () => statsCalls }
}

describe('createPrometheusMetrics with a pool', () => {
  it('exports request counts by outcome, latency, retries, breaker state and endpoint gauges with exact values', async () => {
    // b is a backup: every request tries a first, so each sample below is known.
    pool = createPool({
      endpoints: ['http://a', { url: 'http://b', tier: 'backup' }],
      fetch: fake.fetch,
      heartbeat: false,
      hedge: false,
      retries: 1,
      random: () => 0.5,
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50 },
    })
    metrics = createPrometheusMetrics(pool, { client, registry })

    // 1. Two reads answered by a in 30 ms each.
    fake.set('a', { kind: 'ok', delay: 30, result: '0x10' })
    fake.set('b', { kind: 'ok', result: '0x10' })
    for (let i = 0; i < 2; i++) {
      const p = pool.request('eth_blockNumber')
      await vi.advanceTimersByTimeAsync(30)
      await p
    }
    // 2. a fails with HTTP 500: two reads are retried on b at once (an untried endpoint: no back-off).
    fake.set('a', { kind: 'status', status: 500 })
    const balance = (n: number) => pool!.request('eth_getBalance', [`0x${n.toString(16).padStart(40, '0')}`, 'latest'])
    await balance(1)
    await balance(2)
    // 3. a's third failure in five opens its breaker (60% > 50%); b's revert is final, never retried.
    fake.set('b', { kind: 'rpcError', code: 3, message: 'execution reverted' })
    await expect(pool.request('eth_call', [{ to: '0x0000000000000000000000000000000000000001' }, 'latest'])).rejects.toMatchObject({ code: 'RPC_ERROR' })
    // 4. With a's breaker open, b alone: one attempt, no retries (retries: 0), a 500.
    fake.set('b', { kind: 'status', status: 500 })
    await expect(pool.request('eth_gasPrice', [], { retries: 0 })).rejects.toBeInstanceOf(HttpError)

    const lines = await samples()
    expect(lines.filter((l) => l.startsWith('resilient_rpc_requests_total'))).toEqual([
      'resilient_rpc_requests_total{method="eth_blockNumber",outcome="ok"} 2',
      'resilient_rpc_requests_total{method="eth_getBalance",outcome="ok"} 2',
      'resilient_rpc_requests_total{method="eth_call",outcome="RPC_ERROR"} 1',
      'resilient_rpc_requests_total{method="eth_gasPrice",outcome="HTTP_ERROR"} 1',
    ])
    expect(lines).toEqual(
      expect.arrayContaining([
        'resilient_rpc_request_duration_seconds_bucket{le="0.025",method="eth_blockNumber",outcome="ok"} 0',
        'resilient_rpc_request_duration_seconds_bucket{le="0.05",method="eth_blockNumber",outcome="ok"} 2',
        'resilient_rpc_request_duration_seconds_sum{method="eth_blockNumber",outcome="ok"} 0.06',
        'resilient_rpc_request_duration_seconds_count{method="eth_blockNumber",outcome="ok"} 2',
        'resilient_rpc_request_duration_seconds_count{method="eth_call",outcome="error"} 1',
        'resilient_rpc_request_duration_seconds_count{method="eth_gasPrice",outcome="error"} 1',
      ]),
    )
    expect(lines.filter((l) => l.startsWith('resilient_rpc_retries_total'))).toEqual([
      `resilient_rpc_retries_total{method="eth_getBalance",endpoint="${A}",code="HTTP_ERROR"} 2`,
      `resilient_rpc_retries_total{method="eth_call",endpoint="${A}",code="HTTP_ERROR"} 1`,
    ])
    expect(lines.filter((l) => /^resilient_rpc_(circuit_transitions_total|endpoint_circuit_state)/.test(l))).toEqual([
      `resilient_rpc_circuit_transitions_total{endpoint="${A}",state="open"} 1`,
      `resilient_rpc_endpoint_circuit_state{endpoint="${A}"} 2`,
      `resilient_rpc_endpoint_circuit_state{endpoint="${B}"} 0`,
    ])
    expect(lines.filter((l) => /^resilient_rpc_endpoint_(attempts|served|failures)_total/.test(l))).toEqual([
      `resilient_rpc_endpoint_attempts_total{endpoint="${A}"} 5`,
      `resilient_rpc_endpoint_attempts_total{endpoint="${B}"} 4`,
      `resilient_rpc_endpoint_served_total{endpoint="${A}"} 2`,
      `resilient_rpc_endpoint_served_total{endpoint="${B}"} 2`,
      `resilient_rpc_endpoint_failures_total{endpoint="${A}"} 3`,
      `resilient_rpc_endpoint_failures_total{endpoint="${B}"} 1`,
    ])
    expect(lines).toEqual(
      expect.arrayContaining([
        `resilient_rpc_endpoint_info{endpoint="${B}",tier="backup"} 1`,
        `resilient_rpc_endpoint_status{endpoint="${A}",status="up"} 1`,
        `resilient_rpc_endpoint_status{endpoint="${A}",status="down"} 0`,
        // a's head from its own eth_blockNumber answers (0x10); b's from the reads it answered at the
        // pool's read floor, that block (the balances at `latest`, asked of b at 0x10).
        `resilient_rpc_endpoint_head_block{endpoint="${A}"} 16`,
        `resilient_rpc_endpoint_head_block{endpoint="${B}"} 16`,
        `resilient_rpc_endpoint_requests_in_flight{endpoint="${A}"} 0`,
        `resilient_rpc_endpoint_latency_p95_seconds{endpoint="${A}"} 0.03`,
        `resilient_rpc_endpoint_error_ratio{endpoint="${A}"} 0.6`,
      ]),
    )
    expect(lines.filter((l) => l.startsWith('resilient_rpc_reference_head_block') || l.startsWith('resilient_rpc_endpoint_lag_blocks'))).toEqual([])
    // One status series per endpoint is 1, the others 0.
    expect(lines.filter((l) => l.startsWith('resilient_rpc_endpoint_status{') && l.endsWith(' 1'))).toHaveLength(2)
    expect(lines.filter((l) => l.startsWith('resilient_rpc_endpoint_status{'))).toHaveLength(16)
  })

  it('counts a caller abort as ABORTED, and an in-flight attempt while it runs', async () => {
    pool = createPool({ endpoints: ['http://a'], fetch: fake.fetch, heartbeat: false, hedge: false })
    metrics = createPrometheusMetrics(pool, { client, registry })
    fake.set('a', { kind: 'hang' })
    const controller = new AbortController()
    const pending = pool.request('eth_blockNumber', [], { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(10)
    expect(await samples()).toContain(`resilient_rpc_endpoint_requests_in_flight{endpoint="${A}"} 1`)
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' })
    const lines = await samples()
    expect(lines).toContain('resilient_rpc_requests_total{method="eth_blockNumber",outcome="ABORTED"} 1')
    expect(lines).toContain('resilient_rpc_request_duration_seconds_sum{method="eth_blockNumber",outcome="error"} 0.01')
    expect(lines).toContain(`resilient_rpc_endpoint_requests_in_flight{endpoint="${A}"} 0`)
  })

  it('adds constant labels to every series and counts methods beyond maxMethods as other', async () => {
    pool = createPool({ endpoints: ['http://a'], fetch: fake.fetch, heartbeat: false, hedge: false })
    metrics = createPrometheusMetrics(pool, { client, registry, labels: { pool: 'main' }, maxMethods: 2, prefix: 'rpc_' })
    fake.set('a', { kind: 'ok', result: '0x1' })
    for (const method of ['m_one', 'm_two', 'm_three', 'm_four', 'm_one']) await pool.request(method)
    const lines = await samples()
    expect(lines.filter((l) => l.startsWith('rpc_requests_total'))).toEqual([
      'rpc_requests_total{pool="main",method="m_one",outcome="ok"} 2',
      'rpc_requests_total{pool="main",method="m_two",outcome="ok"} 1',
      'rpc_requests_total{pool="main",method="other",outcome="ok"} 2',
    ])
    expect(lines.every((l) => l.startsWith('rpc_') && l.includes('pool="main"'))).toBe(true)
  })
})

describe('createPrometheusMetrics with a fake source', () => {
  it('maps every event to its counter', async () => {
    const { emitter, source } = fakeSource()
    metrics = createPrometheusMetrics(source, { client, registry })
    emitter.emit('request:hedge', { method: 'eth_call', endpoint: A, hedge: B, delay: 50 })
    emitter.emit('circuit:open', { endpoint: A })
    emitter.emit('circuit:halfOpen', { endpoint: A })
    emitter.emit('circuit:close', { endpoint: A })
    emitter.emit('endpoint:state', { endpoint: B, from: 'up', to: 'lagging' })
    emitter.emit('endpoint:state', { endpoint: B, from: 'lagging', to: 'up' })
    emitter.emit('reconnect:attempt', { endpoint: B, attempt: 1, delay: 100 })
    emitter.emit('chain:reorg', { from: 10n, to: 8n })
    emitter.emit('subscription:source', { id: 1, kind: 'websocket', endpoint: B })
    emitter.emit('subscription:source', { id: 1, kind: 'polling' })
    emitter.emit('request:done', { method: 'eth_call', duration: 1_500, error: new HttpError(503) })
    expect(await samples()).toEqual([
      'resilient_rpc_requests_total{method="eth_call",outcome="HTTP_ERROR"} 1',
      'resilient_rpc_request_duration_seconds_bucket{le="0.005",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="0.01",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="0.025",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="0.05",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="0.1",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="0.25",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="0.5",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="1",method="eth_call",outcome="error"} 0',
      'resilient_rpc_request_duration_seconds_bucket{le="2.5",method="eth_call",outcome="error"} 1',
      'resilient_rpc_request_duration_seconds_bucket{le="5",method="eth_call",outcome="error"} 1',
      'resilient_rpc_request_duration_seconds_bucket{le="10",method="eth_call",outcome="error"} 1',
      'resilient_rpc_request_duration_seconds_bucket{le="30",method="eth_call",outcome="error"} 1',
      'resilient_rpc_request_duration_seconds_bucket{le="+Inf",method="eth_call",outcome="error"} 1',
      'resilient_rpc_request_duration_seconds_sum{method="eth_call",outcome="error"} 1.5',
      'resilient_rpc_request_duration_seconds_count{method="eth_call",outcome="error"} 1',
      `resilient_rpc_hedges_total{method="eth_call",endpoint="${A}"} 1`,
      `resilient_rpc_circuit_transitions_total{endpoint="${A}",state="open"} 1`,
      `resilient_rpc_circuit_transitions_total{endpoint="${A}",state="half-open"} 1`,
      `resilient_rpc_circuit_transitions_total{endpoint="${A}",state="closed"} 1`,
      `resilient_rpc_endpoint_status_changes_total{endpoint="${B}",status="lagging"} 1`,
      `resilient_rpc_endpoint_status_changes_total{endpoint="${B}",status="up"} 1`,
      `resilient_rpc_endpoint_reconnects_total{endpoint="${B}"} 1`,
      'resilient_rpc_chain_reorgs_total 1',
      `resilient_rpc_subscription_source_changes_total{source="websocket",endpoint="${B}"} 1`,
      'resilient_rpc_subscription_source_changes_total{source="polling"} 1',
    ])
  })

  it('reads stats() once per scrape, and gauges follow the latest snapshot', async () => {
    const endpoint = (head: bigint, lag: bigint) =>
      ({ endpoint: A, tier: 'primary', status: 'lagging', breaker: 'half-open', head, lag, inFlight: 3, latencyEwma: 250, latencyP95: undefined, errorRate: 0.25, effectiveWeight: 4, requests: 7, served: 5, failures: 2 }) as unknown as PoolStats['endpoints'][number]
    let stats: PoolStats = { chainId: 1n, referenceHead: 100n, retryBudget: undefined, endpoints: [endpoint(97n, 3n)] }
    const { source, statsCalls } = fakeSource(() => stats)
    metrics = createPrometheusMetrics(source, { client, registry })
    const first = await samples()
    expect(statsCalls()).toBe(1)
    expect(first).toEqual(
      expect.arrayContaining([
        `resilient_rpc_endpoint_status{endpoint="${A}",status="lagging"} 1`,
        `resilient_rpc_endpoint_circuit_state{endpoint="${A}"} 1`,
        `resilient_rpc_endpoint_head_block{endpoint="${A}"} 97`,
        `resilient_rpc_endpoint_lag_blocks{endpoint="${A}"} 3`,
        `resilient_rpc_endpoint_requests_in_flight{endpoint="${A}"} 3`,
        `resilient_rpc_endpoint_latency_ewma_seconds{endpoint="${A}"} 0.25`,
        `resilient_rpc_endpoint_error_ratio{endpoint="${A}"} 0.25`,
        `resilient_rpc_endpoint_effective_weight{endpoint="${A}"} 4`,
        `resilient_rpc_endpoint_attempts_total{endpoint="${A}"} 7`,
        'resilient_rpc_reference_head_block 100',
      ]),
    )
    expect(first.some((l) => l.startsWith('resilient_rpc_endpoint_latency_p95_seconds'))).toBe(false)
    stats = { chainId: 1n, referenceHead: 104n, retryBudget: undefined, endpoints: [endpoint(104n, 0n)] }
    const second = await samples()
    expect(statsCalls()).toBe(2)
    expect(second).toEqual(expect.arrayContaining([`resilient_rpc_endpoint_head_block{endpoint="${A}"} 104`, `resilient_rpc_endpoint_lag_blocks{endpoint="${A}"} 0`, 'resilient_rpc_reference_head_block 104']))
    stats = { chainId: 1n, referenceHead: undefined, retryBudget: undefined, endpoints: [] }
    expect((await samples()).filter((l) => !/_total|_seconds_/.test(l))).toEqual([])
  })

  it('close() removes every listener and every metric it registered, and only those; idempotent', async () => {
    const { emitter, source } = fakeSource()
    const other = new client.Counter({ name: 'app_jobs_total', help: 'Not ours.', registers: [registry] })
    metrics = createPrometheusMetrics(source, { client, registry })
    expect(emitter.eventNames().length).toBeGreaterThanOrEqual(10)
    expect(registry.getMetricsAsArray()).toHaveLength(metrics.names.length + 1)
    metrics.close()
    metrics.close()
    expect(emitter.eventNames()).toEqual([])
    expect(registry.getMetricsAsArray()).toEqual([other])
    // The names are free again.
    metrics = createPrometheusMetrics(source, { client, registry })
    expect(registry.getSingleMetric('resilient_rpc_requests_total')).toBeDefined()
  })

  it('uses prom-client’s global registry by default', async () => {
    const { source } = fakeSource()
    metrics = createPrometheusMetrics(source, { client })
    try {
      expect(metrics.registry).toBe(client.register)
      expect(await client.register.metrics()).toContain('resilient_rpc_chain_reorgs_total 0')
    } finally {
      metrics.close()
    }
    expect(await client.register.metrics()).not.toContain('resilient_rpc_')
  })

  it('refuses a second adapter with the same names, leaving the first one intact', () => {
    const { source } = fakeSource()
    metrics = createPrometheusMetrics(source, { client, registry })
    const count = registry.getMetricsAsArray().length
    expect(() => createPrometheusMetrics(source, { client, registry })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'prefix' }))
    expect(registry.getMetricsAsArray()).toHaveLength(count)
    const second = createPrometheusMetrics(source, { client, registry, prefix: 'second_' })
    expect(registry.getMetricsAsArray()).toHaveLength(2 * count)
    second.close()
    expect(registry.getMetricsAsArray()).toHaveLength(count)
  })

  it.each([
    ['client', { client: undefined }],
    ['client', { client: { Counter: client.Counter } }],
    // No registry and a client without prom-client's global one.
    ['registry', { client: { Counter: client.Counter, Gauge: client.Gauge, Histogram: client.Histogram }, registry: undefined }],
    ['registry', { registry: {} }],
    ['prefix', { prefix: '1abc' }],
    ['prefix', { prefix: 'a-b' }],
    ['buckets', { buckets: [] }],
    ['buckets', { buckets: [0.1, 0.1] }],
    ['buckets', { buckets: [-1, 1] }],
    ['labels.__x', { labels: { __x: 'a' } }],
    ['labels.method', { labels: { method: 'a' } }],
    ['labels.pool', { labels: { pool: 1 } }],
    ['maxMethods', { maxMethods: 0 }],
  ])('rejects a bad %s', (option, bad) => {
    const { source } = fakeSource()
    expect(() => createPrometheusMetrics(source, { client, registry, ...bad } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option }))
    expect(registry.getMetricsAsArray()).toEqual([])
  })

  it('words its option errors like every option: expected …, got …', () => {
    const { source } = fakeSource()
    expect(() => createPrometheusMetrics(source, { client, registry, maxMethods: 1.5 })).toThrow('Invalid option `maxMethods`: expected an integer >= 1, got 1.5')
    expect(() => createPrometheusMetrics(source, { client, registry, buckets: [1, 0.5] })).toThrow('Invalid option `buckets`: expected a non-empty list of increasing positive durations (seconds), got [1,0.5]')
    expect(() => createPrometheusMetrics(source, { client, registry, labels: 'pool' } as never)).toThrow('Invalid option `labels`: expected an object, got pool')
    expect(() => createPrometheusMetrics(source, undefined as never)).toThrow("Invalid option `options`: expected { client } (import * as client from 'prom-client'), got undefined")
  })
})
