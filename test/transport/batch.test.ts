import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { createHttpTransport } from '../../src/transport/http.js'

// Batching against an in-process JSON-RPC server that records every HTTP body it receives.

type Mode = 'batch' | 'no-batch' | 'skip-second' | 'error-second' | 'hang'
let mode: Mode = 'batch'
const bodies: unknown[] = []
let server: Server
let url: string
let hanging: Array<() => void> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = ''
    req.on('data', (c) => (text += c))
    req.on('end', () => {
      const body = JSON.parse(text) as { id: number; method: string } | { id: number; method: string }[]
      bodies.push(body)
      if (mode === 'hang') return void hanging.push(() => res.destroy())
      const answer = (r: { id: number; method: string }, i: number) =>
        mode === 'error-second' && i === 1 ? { jsonrpc: '2.0', id: r.id, error: { code: 3, message: 'execution reverted' } } : { jsonrpc: '2.0', id: r.id, result: `0x${r.id.toString(16)}` }
      res.setHeader('content-type', 'application/json')
      if (!Array.isArray(body)) return void res.end(JSON.stringify(answer(body, 0)))
      if (mode === 'no-batch') return void res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'batch requests not supported' } }))
      // Out of order, to prove answers are matched by id.
      const answers = body.map(answer).reverse()
      res.end(JSON.stringify(mode === 'skip-second' ? answers.filter((a) => a.id !== body[1]!.id) : answers))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

beforeEach(() => {
  mode = 'batch'
  bodies.length = 0
  for (const h of hanging) h()
  hanging = []
})

const transport = (maxSize = 10) => createHttpTransport({ url, endpoint: 'e', batch: { maxSize, wait: 0 } })
const call = (t: ReturnType<typeof transport>, i: number, signal = new AbortController().signal) => t.request('eth_getBalance', [`0x${i}`, 'latest'], { signal })

describe('JSON-RPC batching', () => {
  it('sends requests made in the same tick as one batch and answers each by id', async () => {
    const t = transport()
    const results = await Promise.all([0, 1, 2].map((i) => call(t, i)))
    expect(bodies).toHaveLength(1)
    expect(bodies[0]).toHaveLength(3)
    expect(results).toEqual(['0x1', '0x2', '0x3'])
  })

  it('splits at maxSize', async () => {
    const t = transport(2)
    await Promise.all([0, 1, 2, 3, 4].map((i) => call(t, i)))
    expect(bodies.map((b) => (Array.isArray(b) ? b.length : 1)).sort()).toEqual([1, 2, 2])
  })

  it('a batch the endpoint refuses is split and each request sent alone', async () => {
    mode = 'no-batch'
    const t = transport()
    // Sent again alone, with new ids (the server answers each id as its result).
    expect(await Promise.all([0, 1, 2].map((i) => call(t, i)))).toEqual(['0x4', '0x5', '0x6'])
    expect(bodies.map((b) => Array.isArray(b))).toEqual([true, false, false, false])
  })

  it('a failed item fails only its own caller', async () => {
    mode = 'error-second'
    const t = transport()
    const outcomes = await Promise.allSettled([0, 1, 2].map((i) => call(t, i)))
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(isResilientRpcError((outcomes[1] as PromiseRejectedResult).reason, 'RPC_ERROR')).toBe(true)
  })

  it('an answer missing from the batch fails that item with INVALID_RESPONSE', async () => {
    mode = 'skip-second'
    const t = transport()
    const outcomes = await Promise.allSettled([0, 1, 2].map((i) => call(t, i)))
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'INVALID_RESPONSE' })
  })

  it('one caller aborting is answered at once; the shared request is aborted only when all have', async () => {
    mode = 'hang'
    const t = transport()
    const a = new AbortController()
    const b = new AbortController()
    const pa = call(t, 0, a.signal).catch((e: unknown) => e)
    const pb = call(t, 1, b.signal).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 50))
    expect(bodies).toHaveLength(1)
    a.abort(new Error('a left'))
    expect(await pa).toEqual(new Error('a left'))
    const open = await new Promise<number>((r) => server.getConnections((_, n) => r(n)))
    expect(open).toBeGreaterThan(0)
    b.abort(new Error('b left'))
    expect(await pb).toEqual(new Error('b left'))
  })

  it('through a pool: concurrent distinct reads share HTTP requests', async () => {
    const pool = createPool({ endpoints: [url], heartbeat: false, batch: true, dedupe: false })
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.request('eth_getBalance', [`0x${i}`, 'latest'])))
      expect(results).toHaveLength(6)
      expect(bodies.length).toBeLessThan(6)
    } finally {
      await pool.destroy()
    }
  })
})
