import * as client from 'prom-client'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { createPrometheusMetrics, type MetricsSource, type PromClient, type PromRegistry } from '../../src/index.js'

// The adapter's types spell out the parts of prom-client it uses, so that the package's types compile
// without that optional peer. The real module and registries must still fit them, and the handle must
// give the registry back with its own type. `npm run typecheck` checks the types; the calls run too.

const source: MetricsSource = {
  on: () => undefined,
  off: () => undefined,
  stats: () => ({ chainId: 1n, referenceHead: undefined, retryBudget: undefined, endpoints: [] }),
}

describe('prom-client fits the adapter’s structural types', () => {
  it('the module is a PromClient, and a Registry of either content type a PromRegistry', () => {
    expectTypeOf<typeof client>().toExtend<PromClient<client.Registry>>()
    expectTypeOf<typeof client>().toExtend<PromClient<client.Registry<client.OpenMetricsContentType>>>()
    expectTypeOf<client.Registry>().toExtend<PromRegistry>()
    expectTypeOf<client.Registry<client.OpenMetricsContentType>>().toExtend<PromRegistry>()
  })

  it('hands back the registry it was given, typed as given', async () => {
    const open = new client.Registry<client.OpenMetricsContentType>()
    open.setContentType(client.openMetricsContentType)
    const prometheus = createPrometheusMetrics(source, { client, registry: new client.Registry() })
    const openMetrics = createPrometheusMetrics(source, { client, registry: open })
    try {
      expectTypeOf(prometheus.registry).toEqualTypeOf<client.Registry>()
      expectTypeOf(openMetrics.registry).toEqualTypeOf<client.Registry<client.OpenMetricsContentType>>()
      expect(openMetrics.registry.contentType).toBe(client.openMetricsContentType)
      expect(await openMetrics.registry.metrics()).toContain('resilient_rpc_chain_reorgs_total 0')
      expect(prometheus.registry.getMetricsAsArray()).toHaveLength(prometheus.names.length)
    } finally {
      prometheus.close()
      openMetrics.close()
    }
  })

  it('uses prom-client’s global registry, scrapeable through the handle', async () => {
    const metrics = createPrometheusMetrics(source, { client })
    try {
      expect(metrics.registry).toBe(client.register)
      expect(await metrics.registry.metrics()).toContain('resilient_rpc_chain_reorgs_total 0')
    } finally {
      metrics.close()
    }
  })

  it('refuses, at compile time as at run time, a client without the metrics it needs', () => {
    // @ts-expect-error no Histogram
    expect(() => createPrometheusMetrics(source, { client: { Counter: client.Counter, Gauge: client.Gauge } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'client' }))
    // @ts-expect-error not a registry
    expect(() => createPrometheusMetrics(source, { client, registry: { metrics: () => '' } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'registry' }))
  })
})
