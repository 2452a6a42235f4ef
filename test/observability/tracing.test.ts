import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { Tracer } from '@opentelemetry/api'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPool } from '../../src/index.js'
import { startRequestSpan } from '../../src/observability/tracing.js'
import { useFakePool } from '../support/fakePool.js'
import { start } from '../support/async.js'

// Spans of pool requests, exported in memory: one per request, a child per attempt and per hedge.

/** The in-memory exporter, answering at once: the stock one answers on a zero timer, which fake timers would count as the pool's. */
class SyncExporter extends InMemorySpanExporter {
  readonly #spans: ReadableSpan[] = []
  override export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.#spans.push(...spans)
    done({ code: 0 })
  }
  override getFinishedSpans(): ReadableSpan[] {
    return this.#spans
  }
}

let exporter: InMemorySpanExporter
let provider: BasicTracerProvider
let tracer: Tracer

const spans = () => exporter.getFinishedSpans()
const named = (name: string) => spans().filter((s) => s.name === name)
const childrenOf = (parent: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)

// Registered before useFakePool's hooks: the tracer exists before fake timers start, and is shut down
// once they have stopped, after the pools.
beforeEach(() => {
  exporter = new SyncExporter()
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  tracer = provider.getTracer('test')
})

afterEach(async () => {
  await provider.shutdown()
})

const { fake, makePool } = useFakePool(() => ({ endpoints: ['http://a', 'http://b'], random: () => 0, heartbeat: false, hedge: false, dedupe: false, tracer }))

describe('tracing', () => {
  it('gives a failed-over request one span with a child per attempt, in order, endpoints by id', async () => {
    fake.set('a', { kind: 'network' })
    fake.set('b', { kind: 'ok', result: '0x2a' })
    const p = makePool({}, ['http://a/v3/SECRET', 'http://b'])
    await expect(p.request('eth_blockNumber')).resolves.toBe('0x2a')
    const [request] = named('rpc eth_blockNumber')
    expect(request).toBeDefined()
    expect(request!.attributes).toMatchObject({ 'rpc.system': 'jsonrpc', 'rpc.method': 'eth_blockNumber', 'resilient_rpc.outcome': 'ok', 'resilient_rpc.attempts': 2 })
    expect(request!.status.code).toBe(1)
    const attempts = childrenOf(request!).sort((x, y) => (x.attributes['resilient_rpc.retry'] as number) - (y.attributes['resilient_rpc.retry'] as number))
    expect(attempts.map((s) => [s.name, s.attributes['resilient_rpc.endpoint'], s.attributes['resilient_rpc.retry'], s.attributes['resilient_rpc.outcome']])).toEqual([
      ['rpc eth_blockNumber attempt', 'http://a:80#0', 0, 'NETWORK'],
      ['rpc eth_blockNumber attempt', 'http://b:80#1', 1, 'ok'],
    ])
    expect(attempts[0]!.status.code).toBe(2)
    expect(JSON.stringify(spans().map((s) => s.attributes))).not.toContain('SECRET')
  })

  it('marks a failed request with its error code and the JSON-RPC code', async () => {
    fake.set('a', { kind: 'rpcError', code: 3, message: 'execution reverted' })
    const p = makePool({}, ['http://a'])
    await expect(p.request('eth_call', [{}, 'latest'])).rejects.toMatchObject({ code: 'RPC_ERROR' })
    const [request] = named('rpc eth_call')
    expect(request!.attributes).toMatchObject({ 'resilient_rpc.outcome': 'RPC_ERROR', 'rpc.jsonrpc.error_code': 3, 'resilient_rpc.attempts': 1 })
    expect(request!.status.code).toBe(2)
    expect(childrenOf(request!)).toHaveLength(1)
  })

  it('gives a hedge its own child span', async () => {
    fake.set('a', { kind: 'ok', result: '0x1', delay: 1_000 })
    fake.set('b', { kind: 'ok', result: '0x2' })
    const p = makePool({ hedge: { delay: 100 } })
    const run = start(p.request('eth_getBalance', ['0x0000000000000000000000000000000000000000', '0x1']))
    await vi.advanceTimersByTimeAsync(100)
    await run.done
    expect(run.outcome.value).toBe('0x2')
    const [request] = named('rpc eth_getBalance')
    const children = childrenOf(request!)
    expect(children.map((s) => [s.name, s.attributes['resilient_rpc.hedge'], s.attributes['resilient_rpc.outcome']]).sort()).toEqual([
      ['rpc eth_getBalance attempt', false, 'ABORTED'],
      ['rpc eth_getBalance hedge', true, 'ok'],
    ])
  })

  it('a throwing tracer never breaks a request', async () => {
    fake.set('a', { kind: 'ok', result: '0x7' })
    const broken = { startSpan: () => { throw new Error('exporter down') }, startActiveSpan: () => { throw new Error('exporter down') } } as unknown as Tracer
    const p = makePool({ tracer: broken }, ['http://a'])
    await expect(p.request('eth_blockNumber')).resolves.toBe('0x7')
    const half = {
      startSpan: () => ({ setAttributes: () => { throw new Error('x') }, setStatus: () => { throw new Error('x') }, end: () => { throw new Error('x') } }),
    } as unknown as Tracer
    const span = startRequestSpan(half, 'eth_call')!
    expect(() => span.attempt('a', 0, false).end(new Error('e'))).not.toThrow()
    expect(() => span.end(undefined, 1)).not.toThrow()
  })

  it('does nothing without a tracer', () => {
    expect(startRequestSpan(undefined, 'eth_call')).toBeUndefined()
  })

  it('rejects a tracer that is not one', () => {
    expect(() => createPool({ endpoints: ['http://a'], tracer: {} as Tracer })).toThrow(/tracer/)
  })
})
