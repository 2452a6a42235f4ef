import { trace, type Context, type Span, type Tracer } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { createPool, type PoolOptions, type SpanLike, type TraceContextLike, type TracerLike } from '../../src/index.js'

// The pool's `tracer` option is typed by the parts of OpenTelemetry's API it uses, so that the
// package's types compile without that optional peer. A real tracer must still fit, and the context
// the pool builds for child spans must be one the API accepts. `npm run typecheck` checks the types;
// the calls run too.

describe('OpenTelemetry fits the tracing hook’s structural types', () => {
  it('a Tracer is a TracerLike, its spans SpanLikes, and contexts go both ways', () => {
    expectTypeOf<Tracer>().toExtend<TracerLike>()
    expectTypeOf<Span>().toExtend<SpanLike>()
    expectTypeOf<Context>().toExtend<TraceContextLike>()
    expectTypeOf<TraceContextLike>().toExtend<Context>()
  })

  it('createPool takes the API’s tracer and an SDK’s, and traces with the latter', async () => {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    const options = (tracer: Tracer): PoolOptions => ({ endpoints: ['http://127.0.0.1:9'], heartbeat: false, retries: 0, tracer })
    const untraced = createPool(options(trace.getTracer('no provider registered')))
    const traced = createPool(options(provider.getTracer('test')))
    try {
      await expect(traced.request('eth_chainId', [], { timeout: 2_000 })).rejects.toThrow()
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['rpc eth_chainId attempt', 'rpc eth_chainId'])
    } finally {
      await Promise.all([untraced.destroy(), traced.destroy()])
      await provider.shutdown()
    }
  })

  it('refuses, at compile time as at run time, a tracer without startSpan', () => {
    // @ts-expect-error not a tracer
    expect(() => createPool({ endpoints: ['http://127.0.0.1:9'], heartbeat: false, tracer: { getTracer: () => undefined } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'tracer' }))
  })
})
