import fc from 'fast-check'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { bodyArb, headersArb } from './arbitraries.js'
import { watchStalls } from '../support/async.js'

// Node's own transport (node:http, src/platform/nodePoster.ts) against a raw TCP server on 127.0.0.1
// that writes whatever bytes the property chose: well-formed answers, lies in the headers, garbage,
// half answers, silence. Real sockets, so real (short) time: each request must settle within its
// deadline plus a margin, as one of our errors or a result, and nothing may go unhandled.

const MARGIN = 250
const ID = '__ID__'

type Raw =
  | { kind: 'http'; status: number; headers: Record<string, string>; length: 'true' | 'chunked' | 'none' | number; body: Uint8Array; cut: number | undefined; then: 'end' | 'destroy' | 'keep' }
  | { kind: 'garbage'; bytes: Uint8Array; then: 'end' | 'destroy' | 'keep' }
  | { kind: 'informational'; status: number; then: 'end' | 'keep' }
  | { kind: 'close' }
  | { kind: 'hang' }

const then = fc.constantFrom('end' as const, 'destroy' as const, 'keep' as const)
const rawArb: fc.Arbitrary<Raw> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('http' as const),
      status: fc.integer({ min: 200, max: 599 }),
      headers: headersArb,
      // Content-Length: the truth, chunked, none (read to close), or a lie of any size.
      length: fc.oneof(fc.constantFrom('true' as const, 'chunked' as const, 'none' as const), fc.nat({ max: 100_000 })),
      body: bodyArb(ID),
      // Bytes of the whole answer actually written before `then` (a half answer).
      cut: fc.option(fc.nat({ max: 400 }), { nil: undefined }),
      then,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }), then }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('informational' as const), status: fc.integer({ min: 100, max: 199 }), then: fc.constantFrom('end' as const, 'keep' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'hang' as const }) },
)

function bytesOf(raw: Raw, id: number): Buffer {
  switch (raw.kind) {
    case 'garbage':
      return Buffer.from(raw.bytes)
    case 'informational':
      return Buffer.from(`HTTP/1.1 ${raw.status} Info\r\n\r\n`)
    case 'http': {
      const body = Buffer.from(new TextDecoder().decode(raw.body).replaceAll(JSON.stringify(ID), JSON.stringify(id)))
      const head = [`HTTP/1.1 ${raw.status} Whatever`, ...Object.entries(raw.headers).map(([k, v]) => `${k}: ${v}`)]
      let payload = body
      if (raw.length === 'true') head.push(`content-length: ${body.length}`)
      else if (typeof raw.length === 'number') head.push(`content-length: ${raw.length}`)
      else if (raw.length === 'chunked') {
        head.push('transfer-encoding: chunked')
        payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
      }
      const all = Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), payload])
      return raw.cut === undefined ? all : all.subarray(0, raw.cut)
    }
    default:
      return Buffer.alloc(0)
  }
}

let server: Server
let port: number
let script: Raw[] = []
let answered = 0
const sockets = new Set<Socket>()

/** Answers each request (headers and its Content-Length of body) with the script's next raw answer. */
function onConnection(socket: Socket): void {
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
  socket.on('error', () => {})
  let buffer = Buffer.alloc(0)
  socket.on('data', (data) => {
    buffer = Buffer.concat([buffer, data])
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      const length = Number(/content-length: *(\d+)/i.exec(buffer.subarray(0, end).toString())?.[1] ?? 0)
      if (buffer.length < end + 4 + length) return
      const body = buffer.subarray(end + 4, end + 4 + length).toString()
      buffer = buffer.subarray(end + 4 + length)
      const sent = JSON.parse(body) as { id: number } | { id: number }[]
      const raw = script[Math.min(answered++, script.length - 1)]!
      if (raw.kind === 'hang') continue
      if (raw.kind === 'close') return void socket.destroy()
      socket.write(bytesOf(raw, Array.isArray(sent) ? sent[0]!.id : sent.id))
      if (raw.then === 'end') return void socket.end()
      if (raw.then === 'destroy') return void socket.destroy()
    }
  })
}

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => void unhandled.push(reason)

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  server = createServer(onConnection)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('fuzzed raw HTTP answers over node:http', () => {
  it('every request settles within its deadline (plus a margin) with a result or a ResilientRpcError', async () => {
    const scenario = fc.record({
      script: fc.array(rawArb, { minLength: 1, maxLength: 3 }),
      timeout: fc.integer({ min: 100, max: 400 }),
      attemptTimeout: fc.integer({ min: 30, max: 200 }),
      retries: fc.integer({ min: 0, max: 2 }),
      maxResponseBytes: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
    })
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        script = s.script
        answered = 0
        const pool = createPool({
          endpoints: [`http://127.0.0.1:${port}/v3/SECRETKEY`],
          heartbeat: false,
          backoff: { initial: 5, max: 20 },
          ...(s.maxResponseBytes === undefined ? {} : { maxResponseBytes: s.maxResponseBytes }),
        })
        const stalls = watchStalls()
        try {
          const t0 = performance.now()
          const error = await pool.request('eth_getBalance', ['0x0000000000000000000000000000000000000000', 'latest'], { timeout: s.timeout, attemptTimeout: s.attemptTimeout, retries: s.retries }).then(
            () => undefined,
            (e: unknown) => e ?? new Error('rejected with nothing'),
          )
          expect(performance.now() - t0).toBeLessThanOrEqual(s.timeout + MARGIN + stalls.max())
          if (error !== undefined) {
            expect(isResilientRpcError(error), `not a ResilientRpcError: ${String(error)}`).toBe(true)
            expect(String((error as Error).message)).not.toContain('SECRETKEY')
            expect(JSON.stringify(error)).not.toContain('SECRETKEY')
          }
          expect(pool.stats().endpoints[0]!.inFlight).toBe(0)
        } finally {
          stalls.stop()
          await pool.destroy()
          for (const socket of sockets) socket.destroy()
        }
      }),
      { numRuns: 100 },
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  }, 60_000)
})

describe('oversized answers over node:http', () => {
  /** Streams `total` bytes of a JSON string result, respecting back-pressure; counts what it wrote. */
  async function stream(socket: Socket, total: number, written: { bytes: number }): Promise<void> {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
    socket.write(`24\r\n{"jsonrpc":"2.0","id":1,"result":"0x\r\n`)
    while (written.bytes < total && !socket.destroyed) {
      written.bytes += chunk.length
      if (!socket.write(frame)) await new Promise<void>((resolve) => (socket.once('drain', resolve), socket.once('close', resolve)))
    }
  }

  it('a 256 MiB chunked body fails with INVALID_RESPONSE and the connection is cut after a fraction of it', async () => {
    const total = 256 * 1024 * 1024
    const written = { bytes: 0 }
    const big = createServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', () => void stream(socket, total, written))
    })
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve))
    const pool = createPool({ endpoints: [`http://127.0.0.1:${(big.address() as AddressInfo).port}`], heartbeat: false, retries: 0, maxResponseBytes: 256 * 1024 })
    try {
      const heapBefore = process.memoryUsage().heapUsed
      const error = await pool.request('eth_call', [], { timeout: 10_000 }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'INVALID_RESPONSE' })
      // What the server managed to write before the socket closed: the bound plus socket buffers.
      expect(written.bytes).toBeLessThan(total / 8)
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)
    } finally {
      await pool.destroy()
      await new Promise<void>((resolve) => big.close(() => resolve()))
    }
  })

  it('a gzip bomb (64 KiB that inflate to 64 MiB) fails with INVALID_RESPONSE', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"result":"0x'), Buffer.alloc(64 * 1024 * 1024, 0x61), Buffer.from('"}')]))
    const small = createServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', () => socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${bomb.length}\r\n\r\n`), bomb])))
    })
    await new Promise<void>((resolve) => small.listen(0, '127.0.0.1', resolve))
    const pool = createPool({ endpoints: [`http://127.0.0.1:${(small.address() as AddressInfo).port}`], heartbeat: false, retries: 0, maxResponseBytes: 256 * 1024 })
    try {
      expect(bomb.length).toBeLessThan(256 * 1024)
      const error = await pool.request('eth_call', [], { timeout: 10_000 }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'INVALID_RESPONSE' })
    } finally {
      await pool.destroy()
      await new Promise<void>((resolve) => small.close(() => resolve()))
    }
  })
})
