import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { describe, expect, it } from 'vitest'
import type { Logger } from '../../src/index.js'
import { waitFor } from '../support/async.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'

// Tracing and logging against anvil through fault proxies: the spans of a failed-over request, and
// logs that are redacted and rate-limited while an endpoint flaps.

// Unnamed, with API keys in their URLs: spans and logs show the redacted URLs, which must not carry the keys.
const node = useProxiedAnvil({ http: 2, named: false, keyed: true })
const [A, B] = [0, 1]

describe('tracing against anvil', () => {
  it('shows the attempts of a failed-over request as children of its span', async () => {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    try {
      // No heartbeats: A is not known to be down, so the request tries it first and fails over.
      const pool = node.pool({ heartbeat: false, hedge: false, attemptTimeout: 1_000, tracer: provider.getTracer('test') })
      node.http[A]!.setMode({ kind: 'http500' })
      const head = await pool.request<string>('eth_blockNumber')
      expect(BigInt(head)).toBe(BigInt(await node.anvil.rpc<string>('eth_blockNumber')))
      expect([node.http[A]!.count(), node.http[B]!.count()]).toEqual([1, 1])

      const spans = exporter.getFinishedSpans()
      const request = spans.find((s) => s.name === 'rpc eth_blockNumber')!
      expect(request.attributes).toMatchObject({ 'rpc.system': 'jsonrpc', 'rpc.method': 'eth_blockNumber', 'resilient_rpc.outcome': 'ok', 'resilient_rpc.attempts': 2 })
      const children = spans.filter((s) => s.parentSpanContext?.spanId === request.spanContext().spanId)
      expect(children.map((s) => [s.attributes['resilient_rpc.retry'], s.attributes['resilient_rpc.endpoint'], s.attributes['resilient_rpc.outcome']])).toEqual([
        [0, `http://127.0.0.1:${node.http[A]!.port}#0`, 'HTTP_ERROR'],
        [1, `http://127.0.0.1:${node.http[B]!.port}#1`, 'ok'],
      ])
      expect(children.every((s) => s.spanContext().traceId === request.spanContext().traceId)).toBe(true)
      expect(JSON.stringify(spans.map((s) => [s.name, s.attributes, s.status]))).not.toContain('SECRET')
    } finally {
      await provider.shutdown()
    }
  })
})

describe('logging against anvil', () => {
  it('logs a flapping endpoint by id only, at most `max` messages per kind and window, counting the rest', async () => {
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = []
    const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg })
    const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
    const pool = node.pool({
      endpoints: node.http.map((x, i) => node.endpoint(x, { headers: { Authorization: `Bearer SECRET${i}TOKEN` } })),
      heartbeat: { interval: 30, timeout: 200, failuresToDown: 1 },
      attemptTimeout: 500,
      chainId: 31337,
      logger,
      logRateLimit: { max: 2, interval: 1_000 },
    })
    let downs = 0
    pool.on('endpoint:state', ({ to }) => void (to === 'down' && downs++))
    await pool.ready({ minHealthy: 2, timeout: 5_000 })
    node.http[A]!.setMode({ kind: 'flap', upMs: 100, downMs: 100 })
    const downLogs = () => lines.filter((l) => l.msg === 'endpoint down')
    await waitFor(() => downLogs().some((l) => typeof l.obj.suppressed === 'number'), 'a log line reporting suppressed ones', 10_000)
    // Every transition happened (events), fewer were logged, and the gap was counted.
    expect(downs).toBeGreaterThan(downLogs().length)
    // By id only. Mostly A's: B is healthy, but with failuresToDown 1 and a 200 ms ping limit, one
    // stall of a loaded machine marks it down too, and that is logged the same way.
    const ids = node.http.map((x, i) => `http://127.0.0.1:${x.port}#${i}`)
    expect(downLogs().every((l) => l.level === 'warn' && ids.includes(l.obj.endpoint as string))).toBe(true)
    expect(downLogs().some((l) => l.obj.endpoint === ids[A])).toBe(true)
    const suppressed = downLogs().reduce((sum, l) => sum + ((l.obj.suppressed as number | undefined) ?? 0), 0)
    expect(suppressed).toBeGreaterThan(0)
    expect(lines.some((l) => l.msg === 'pool ready')).toBe(true)
    const text = JSON.stringify(lines)
    expect(text).not.toContain('SECRET')
    expect(text).not.toContain('/v3/')
  })
})
