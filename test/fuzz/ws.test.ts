import fc from 'fast-check'
import type { AddressInfo } from 'node:net'
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { TimeoutError } from '../../src/errors/request.js'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { createWsTransport } from '../../src/transport/ws.js'
import { waitFor, watchStalls } from '../support/async.js'
import { bodyArb } from './arbitraries.js'

// A real `ws` server on 127.0.0.1 that answers each JSON-RPC request, and greets each connection,
// with frames the property chose: arbitrary text, JSON-RPC shapes with wrong, duplicate, missing or
// huge ids, binary frames, notifications for unknown subscriptions, raw frames with any opcode,
// close frames with any code and reason, raw garbage, an abrupt terminate, or silence. Real sockets,
// so real (short) time: every request must settle within its deadline plus a margin, with a result
// or one of our errors, nothing may go unhandled, and nothing may stay pending after destroy().

const MARGIN = 300
const ID = '__ID__'
const SECRET = 'SECRETKEY'

type Frame =
  | { kind: 'body'; bytes: Uint8Array; binary: boolean }
  | { kind: 'text'; text: string }
  | { kind: 'answer'; result: unknown }
  | { kind: 'notify'; subscription: unknown; result: unknown }
  | { kind: 'raw'; opcode: number; fin: boolean; payload: Uint8Array }
  | { kind: 'close'; code: number; reason: Uint8Array }
  | { kind: 'garbage'; bytes: Uint8Array }
  | { kind: 'terminate' }

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('body' as const), bytes: bodyArb(ID), binary: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 100 }) }) },
  // A right answer, so that some requests succeed (and a second one is a duplicate).
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('answer' as const), result: fc.jsonValue({ maxDepth: 2 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('notify' as const), subscription: fc.oneof(fc.constantFrom('0x1', '0x2'), fc.jsonValue({ maxDepth: 1 })), result: fc.jsonValue({ maxDepth: 2 }) }),
  },
  // Any opcode, reserved ones included; control frames must be short and final, so some are invalid.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), opcode: fc.integer({ min: 0, max: 15 }), fin: fc.boolean(), payload: fc.uint8Array({ maxLength: 125 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), code: fc.oneof(fc.constantFrom(1000, 1001, 1005, 1006, 1009, 1011, 4000), fc.integer({ min: 0, max: 65_535 })), reason: fc.uint8Array({ maxLength: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'terminate' as const }) },
)

/** What the server does with one request: frames in order; none is silence. */
const answerArb = fc.array(frameArb, { maxLength: 3 })

/** The server's behaviour in one run: `script` answers requests in turn (cycling), `greeting` opens every connection. */
type Server = { script: Frame[][]; greeting: Frame[]; handshake: boolean }

const serverArb: fc.Arbitrary<Server> = fc.record({
  script: fc.array(answerArb, { minLength: 1, maxLength: 4 }),
  greeting: fc.array(frameArb, { maxLength: 2 }),
  // Mostly a good handshake, so that requests reach the script; sometimes the handshake is fuzzed too.
  handshake: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
})

/** One unmasked server frame, written straight to the TCP socket: `ws` would refuse to send most of these. */
function rawFrame(opcode: number, fin: boolean, payload: Uint8Array): Buffer {
  const head = payload.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, payload.length]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 126, payload.length >> 8, payload.length & 0xff])
  return Buffer.concat([head, payload])
}

function send(socket: WebSocket, frame: Frame, id: unknown): void {
  const tcp = (socket as unknown as { _socket: Socket })._socket
  if (socket.readyState !== socket.OPEN) return
  switch (frame.kind) {
    case 'body': {
      const text = new TextDecoder().decode(frame.bytes).replaceAll(JSON.stringify(ID), JSON.stringify(id))
      return frame.binary ? socket.send(Buffer.from(text), { binary: true }) : socket.send(text)
    }
    case 'text':
      return socket.send(frame.text)
    case 'answer':
      return socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: frame.result }))
    case 'notify':
      return socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: frame.subscription, result: frame.result } }))
    case 'raw':
      return void tcp.write(rawFrame(frame.opcode, frame.fin, frame.payload))
    case 'close':
      return void tcp.write(rawFrame(0x8, true, Buffer.concat([Buffer.from([frame.code >> 8, frame.code & 0xff]), frame.reason])))
    case 'garbage':
      return void tcp.write(frame.bytes)
    case 'terminate':
      return socket.terminate()
  }
}

let wss: WebSocketServer
let url: string
let current: Server = { script: [[]], greeting: [], handshake: true }
let answered = 0
/**
 * Requests (by their first param) that met only well-formed frames up to a right answer, with the time
 * the server sent it: unless that was at the very end of their deadline, they must not time out.
 */
let mustSettle = new Map<unknown, number>()
// Time a local frame may take to reach the client on a busy machine.
const DELIVERY = 75

// Frames that leave the connection open: anything else may end it (a protocol error, a close).
const CLEAN = new Set<Frame['kind']>(['body', 'text', 'answer', 'notify'])

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => void unhandled.push(reason)

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v3/${SECRET}?apikey=${SECRET}`
  wss.on('connection', (socket) => {
    const s = current
    socket.on('error', () => {})
    let first = true
    let clean = s.greeting.every((f) => CLEAN.has(f.kind))
    for (const frame of s.greeting) send(socket, frame, 1)
    socket.on('message', (data) => {
      let msg: { id?: unknown; method?: unknown; params?: unknown[] }
      try {
        msg = JSON.parse(data.toString()) as typeof msg
      } catch {
        return
      }
      // The transport's handshake comes first on every connection: pass it, or fuzz it too.
      if (first && s.handshake) {
        first = false
        return socket.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: '0x7a69' }))
      }
      first = false
      const frames = s.script[answered++ % s.script.length]!
      const right = frames.findIndex((f) => f.kind === 'answer')
      if (clean && right >= 0 && frames.slice(0, right).every((f) => CLEAN.has(f.kind)) && msg.method === 'fuzz_call') mustSettle.set(msg.params?.[0], performance.now())
      if (!frames.every((f) => CLEAN.has(f.kind))) clean = false
      // A subscription needs a string id: the right answer to eth_subscribe is the one notifications use.
      for (const frame of frames) send(socket, msg.method === 'eth_subscribe' && frame.kind === 'answer' ? { ...frame, result: '0x1' } : frame, msg.id)
    })
  })
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  for (const client of wss.clients) client.terminate()
  await new Promise<void>((resolve) => wss.close(() => resolve()))
})

const HUNG = Symbol('hung')

/** `promise`'s outcome, or HUNG if it has not settled after `ms`: a hang fails the property instead of the test timing out. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof HUNG> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<typeof HUNG>((resolve) => (timer = setTimeout(() => resolve(HUNG), ms)))
  try {
    return await Promise.race([promise, hung])
  } finally {
    clearTimeout(timer)
  }
}

/** Every connection closed at the server: nothing of the client is left. */
const drained = () => waitFor(() => wss.clients.size === 0, 'every socket closed after destroy()', 2_000)

function expectOurs(error: unknown) {
  expect(isResilientRpcError(error), `not a ResilientRpcError: ${String(error)}`).toBe(true)
  expect(String((error as Error).message)).not.toContain(SECRET)
  expect(JSON.stringify(error)).not.toContain(SECRET)
}


describe('fuzzed WebSocket frames through the pool', () => {
  it('every request settles within its deadline (plus a margin) with a result or a ResilientRpcError; destroy() leaves nothing', async () => {
    const scenario = fc.record({
      server: serverArb,
      requests: fc.integer({ min: 1, max: 3 }),
      timeout: fc.integer({ min: 60, max: 250 }),
      attemptTimeout: fc.integer({ min: 20, max: 150 }),
      retries: fc.integer({ min: 0, max: 2 }),
      maxResponseBytes: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
    })
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        current = s.server
        answered = 0
        const pool = createPool({
          endpoints: [url],
          heartbeat: false,
          backoff: { initial: 5, max: 20 },
          webSocket: { reconnect: { initial: 1, max: 10 }, connectTimeout: 100 },
          ...(s.maxResponseBytes === undefined ? {} : { maxResponseBytes: s.maxResponseBytes }),
        })
        const stalls = watchStalls()
        try {
          const t0 = performance.now()
          const outcomes = await Promise.all(
            Array.from({ length: s.requests }, () =>
              within(
                pool.request('eth_getBalance', ['0x0000000000000000000000000000000000000000', 'latest'], { timeout: s.timeout, attemptTimeout: s.attemptTimeout, retries: s.retries }).then(
                  () => undefined,
                  (e: unknown) => e ?? new Error('rejected with nothing'),
                ),
                s.timeout + 2 * MARGIN,
              ),
            ),
          )
          expect(outcomes).not.toContain(HUNG)
          expect(performance.now() - t0).toBeLessThanOrEqual(s.timeout + MARGIN + stalls.max())
          for (const error of outcomes) if (error !== undefined) expectOurs(error)
          expect(pool.stats().endpoints[0]!.inFlight).toBe(0)
        } finally {
          stalls.stop()
          await pool.destroy()
        }
        await drained()
      }),
      { numRuns: 60 },
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  }, 180_000)
})

describe('fuzzed WebSocket frames against the transport alone', () => {
  it('requests and a subscription settle by their deadline, a right answer on an intact connection is never lost, destroy() leaves nothing', async () => {
    const scenario = fc.record({
      server: serverArb,
      deadlines: fc.array(fc.integer({ min: 150, max: 250 }), { minLength: 1, maxLength: 3 }),
      subscribe: fc.boolean(),
      keepalive: fc.constantFrom('ping' as const, 'request' as const, false as const),
    })
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        current = s.server
        answered = 0
        mustSettle = new Map()
        const errors: unknown[] = []
        const t = createWsTransport({
          url,
          endpoint: 'ws://127.0.0.1:0#0',
          connectTimeout: 100,
          reconnect: { initial: 1, max: 10 },
          // Longer than any deadline: a keepalive verdict must not end the connection under a request.
          keepalive: s.keepalive === false ? false : { interval: 20, timeout: 400, mode: s.keepalive },
        })
        t.on('error', (e) => errors.push(e))
        const timers: NodeJS.Timeout[] = []
        /** A signal aborted with our own TimeoutError after `ms`: that error means "nothing else settled it". */
        const deadline = (ms: number) => {
          const controller = new AbortController()
          const reason = new TimeoutError('request', ms)
          timers.push(setTimeout(() => controller.abort(reason), ms))
          return { signal: controller.signal, reason }
        }
        const stalls = watchStalls()
        try {
          const t0 = performance.now()
          const calls = s.deadlines.map(async (ms, k) => {
            const { signal, reason } = deadline(ms)
            const outcome = await within(
              t.request('fuzz_call', [k], { signal }).then(
                (value) => ({ value }),
                (error: unknown) => ({ error: error ?? new Error('rejected with nothing') }),
              ),
              ms + 2 * MARGIN,
            )
            if (outcome === HUNG) throw new Error(`request ${k} never settled`)
            expect(performance.now() - t0).toBeLessThanOrEqual(ms + MARGIN + stalls.max())
            return { k, outcome, reason }
          })
          const sub = s.subscribe
            ? (async () => {
                const { signal } = deadline(200)
                const outcome = await within(
                  t.subscribe(['newHeads'], () => {}, { signal }).then(
                    () => undefined,
                    (error: unknown) => error ?? new Error('rejected with nothing'),
                  ),
                  200 + 2 * MARGIN,
                )
                if (outcome === HUNG) throw new Error('subscribe() never settled')
                return outcome
              })()
            : Promise.resolve(undefined)
          const results = await Promise.all(calls)
          const subError = await sub
          expect(performance.now() - t0).toBeLessThanOrEqual(250 + MARGIN + stalls.max())
          if (subError !== undefined) expectOurs(subError)
          for (const { k, outcome, reason } of results) {
            if ('error' in outcome) expectOurs(outcome.error)
            const answeredAt = mustSettle.get(k)
            if (answeredAt !== undefined && answeredAt - t0 < s.deadlines[k]! - DELIVERY) expect(outcome, `request ${k} got a right answer on an intact connection`).not.toEqual({ error: reason })
          }
        } finally {
          stalls.stop()
          for (const timer of timers) clearTimeout(timer)
          await t.destroy()
        }
        expect(t.stats()).toMatchObject({ state: 'destroyed', inFlight: 0, waiting: 0, subscriptions: 0 })
        expect(errors).toEqual([])
        await drained()
      }),
      { numRuns: 50 },
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  }, 180_000)
})

describe('oversized messages over WebSocket', () => {
  it('a 256 MiB message is cut off after a fraction of it, and the pool serves the request from another endpoint', async () => {
    const total = 256 * 1024 * 1024
    const written = { bytes: 0 }
    const closeCodes: number[] = []
    // Streams one text message in 64 KiB fragments, each sent only once the last one left: `ws` never
    // holds more than one in memory, so what it wrote is what the client had to take.
    const big = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    big.on('connection', (socket) => {
      socket.on('error', () => {})
      socket.on('close', (code) => closeCodes.push(code))
      socket.on('message', async (data) => {
        const msg = JSON.parse(data.toString()) as { id: number; method: string }
        if (msg.method === 'eth_chainId') return socket.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: '0x7a69' }))
        const chunk = Buffer.alloc(64 * 1024, 0x61)
        const fragment = (data: Buffer, fin: boolean) => new Promise<boolean>((resolve) => socket.send(data, { binary: false, fin }, (error) => resolve(error === undefined || error === null)))
        if (!(await fragment(Buffer.from(`{"jsonrpc":"2.0","id":${msg.id},"result":"0x`), false))) return
        while (written.bytes < total && socket.readyState === socket.OPEN) {
          written.bytes += chunk.length
          if (!(await fragment(chunk, false))) return
        }
      })
    })
    const good = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    good.on('connection', (socket) => socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id: number; method: string }
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: msg.method === 'eth_chainId' ? '0x7a69' : '0x2a' }))
    }))
    await Promise.all([big, good].map((s) => new Promise<void>((resolve) => s.once('listening', () => resolve()))))
    const port = (s: WebSocketServer) => (s.address() as AddressInfo).port
    const pool = createPool({
      endpoints: [
        { url: `ws://127.0.0.1:${port(big)}/v3/${SECRET}`, name: 'big' },
        { url: `ws://127.0.0.1:${port(good)}/v3/${SECRET}`, name: 'good', tier: 'backup' },
      ],
      heartbeat: false,
      retries: 1,
      maxResponseBytes: 256 * 1024,
    })
    try {
      const heapBefore = process.memoryUsage().heapUsed
      expect(await pool.request('eth_call', [], { timeout: 10_000 })).toBe('0x2a')
      const bigStats = pool.stats().endpoints.find((e) => e.endpoint === 'big')!
      expect(bigStats).toMatchObject({ failures: 1, requests: 1 })
      expect(bigStats.statusReason).not.toContain(SECRET)
      // What the server managed to write before the socket closed: the bound plus socket buffers.
      expect(written.bytes).toBeLessThan(total / 8)
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)
      await waitFor(() => closeCodes.length === 1, 'the big server to see the close')
      expect(closeCodes).toEqual([1009])
    } finally {
      await pool.destroy()
      await Promise.all([big, good].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    }
  })
})
