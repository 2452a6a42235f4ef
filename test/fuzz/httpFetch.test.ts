import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { bodyArb, headersArb, statusArb } from './arbitraries.js'

// Whatever an endpoint answers over `fetch` (the browser transport, and Node's when one is injected),
// a request settles by its deadline with a result or one of our errors, and nothing is left unhandled.

const ID = '__ID__'

type Answer = { status: number; headers: Record<string, string>; contentLength: string | undefined; body: Uint8Array }

const answerArb: fc.Arbitrary<Answer> = fc.record({
  status: statusArb,
  headers: headersArb,
  // Content-Length that tells the truth, lies, or is not a number at all.
  contentLength: fc.option(fc.oneof(fc.nat({ max: 1_000 }).map(String), fc.constantFrom('-1', 'abc', '1e3', '99999999999')), { nil: undefined }),
  body: bodyArb(ID),
})

const scenario = fc.record({
  // Each endpoint answers its calls with these in turn, the last one repeating.
  endpoints: fc.array(fc.array(answerArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  timeout: fc.integer({ min: 50, max: 3_000 }),
  attemptTimeout: fc.integer({ min: 10, max: 1_000 }),
  retries: fc.integer({ min: 0, max: 3 }),
  method: fc.constantFrom('eth_blockNumber', 'eth_chainId', 'eth_getBalance', 'eth_call', 'eth_sendRawTransaction'),
  maxResponseBytes: fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
})

const NULL_BODY = new Set([204, 205, 304])

function fetchFor(script: Answer[]): typeof fetch {
  let calls = 0
  return (async (_input: string | URL | Request, init?: RequestInit) => {
    init?.signal?.throwIfAborted()
    const sent = JSON.parse(String(init?.body)) as { id: number } | { id: number }[]
    const id = Array.isArray(sent) ? sent[0]!.id : sent.id
    const a = script[Math.min(calls++, script.length - 1)]!
    const text = new TextDecoder().decode(a.body).replaceAll(JSON.stringify(ID), JSON.stringify(id))
    const bytes = text.includes(String(id)) ? new TextEncoder().encode(text) : a.body
    const headers = { ...a.headers, ...(a.contentLength === undefined ? {} : { 'content-length': a.contentLength }) }
    return new Response(NULL_BODY.has(a.status) ? null : (bytes as Uint8Array<ArrayBuffer>), { status: a.status, headers })
  }) as typeof fetch
}

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

async function run(s: Scenario): Promise<void> {
  const fetches = s.endpoints.map(fetchFor)
  const pool = createPool({
    endpoints: s.endpoints.map((_, i) => `http://e${i}.test/key/SECRETKEY`),
    heartbeat: false,
    // Each endpoint host gets its own script.
    fetch: ((input: string | URL | Request, init?: RequestInit) => fetches[Number(new URL(String(input)).hostname.slice(1, -5))]!(input, init)) as typeof fetch,
    ...(s.maxResponseBytes === undefined ? {} : { maxResponseBytes: s.maxResponseBytes }),
  })
  try {
    const t0 = Date.now()
    const outcome: { settled: boolean; error?: unknown; at?: number } = { settled: false }
    void pool.request(s.method, [], { timeout: s.timeout, attemptTimeout: s.attemptTimeout, retries: s.retries }).then(
      () => Object.assign(outcome, { settled: true, at: Date.now() - t0 }),
      (error: unknown) => Object.assign(outcome, { settled: true, error, at: Date.now() - t0 }),
    )
    await vi.advanceTimersByTimeAsync(s.timeout + 1)
    expect(outcome.settled).toBe(true)
    expect(outcome.at).toBeLessThanOrEqual(s.timeout)
    if ('error' in outcome) {
      expect(isResilientRpcError(outcome.error), `not a ResilientRpcError: ${String(outcome.error)}`).toBe(true)
      expect(String((outcome.error as Error).message)).not.toContain('SECRETKEY')
      // Whatever went wrong, a logger can write it: no cycle, no bigint, no key.
      expect(JSON.stringify(outcome.error)).not.toContain('SECRETKEY')
    }
    expect(pool.stats().endpoints.map((e) => e.inFlight)).toEqual(s.endpoints.map(() => 0))
  } finally {
    await pool.destroy()
  }
  expect(vi.getTimerCount()).toBe(0)
}

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => void unhandled.push(reason)

beforeAll(() => void process.on('unhandledRejection', onUnhandled))
afterAll(() => void process.off('unhandledRejection', onUnhandled))
beforeEach(() => void vi.useFakeTimers())
afterEach(() => {
  const timers = vi.getTimerCount()
  vi.useRealTimers()
  expect(timers).toBe(0)
})

describe('fuzzed HTTP answers over fetch', () => {
  it('every request settles by its deadline with a result or a ResilientRpcError, and nothing goes unhandled', async () => {
    await fc.assert(fc.asyncProperty(scenario, run), { numRuns: 200 })
    // Rejections surface a turn later: let them.
    await vi.advanceTimersByTimeAsync(1)
    expect(unhandled).toEqual([])
  })

  it('an answer over maxResponseBytes fails with INVALID_RESPONSE, declared or not', async () => {
    const body = new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', id: ID, result: '0x' + 'a'.repeat(5_000) }))
    for (const contentLength of [undefined, String(body.length)]) {
      const pool = createPool({ endpoints: ['http://e0.test'], heartbeat: false, retries: 0, maxResponseBytes: 100, fetch: fetchFor([{ status: 200, headers: {}, contentLength, body }]) })
      const settled = pool.request('eth_call', [], { timeout: 1_000 }).catch((e: unknown) => e)
      await vi.advanceTimersByTimeAsync(1)
      expect(await settled, `content-length ${contentLength}`).toMatchObject({ code: 'INVALID_RESPONSE' })
      await pool.destroy()
    }
  })

  it('a streamed answer of 1 GiB is cut off after maxResponseBytes: only a few chunks are ever produced', async () => {
    const CHUNK = 64 * 1024
    for (const headers of [{}, { 'content-encoding': 'gzip', 'content-length': '100' }] as Record<string, string>[]) {
      let produced = 0
      const doFetch = (async () => {
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (produced === 0) controller.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"result":"0x'))
            produced += CHUNK
            if (produced >= 2 ** 30) return controller.close()
            controller.enqueue(new Uint8Array(CHUNK).fill(0x61))
          },
        })
        return new Response(stream, { status: 200, headers })
      }) as typeof fetch
      const pool = createPool({ endpoints: ['http://e0.test'], heartbeat: false, retries: 0, maxResponseBytes: 256 * 1024, fetch: doFetch })
      const settled = pool.request('eth_call', [], { timeout: 10_000 }).catch((e: unknown) => e)
      await vi.advanceTimersByTimeAsync(1)
      expect(await settled).toMatchObject({ code: 'INVALID_RESPONSE' })
      await pool.destroy()
      // The bound plus what the stream had queued ahead, far below the gigabyte on offer.
      expect(produced).toBeLessThan(1024 * 1024)
    }
  })
})
