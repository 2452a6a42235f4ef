import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { classifyError } from '../../src/errors/classify.js'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { ResilientRpcError } from '../../src/errors/base.js'
import type { WebSocketConstructor } from '../../src/types/webSocket.js'
import type { WsTransportOptions } from '../../src/config/webSocketOptions.js'
import { start, waitFor } from '../support/async.js'
import { advance, live, openLast, tick, useFakeWsTransports } from './fixtures/fakeWebSocket.js'
import { expectCode, failure, record, useWsServer } from './fixtures/wsServer.js'

// One connection generation (src/transport/wsConnection.ts): its connect deadline, its timers and
// events that never act on the next generation, odd failures, and the bound on incoming messages.

const srv = useWsServer()

describe('WsConnection: connect deadline', () => {
  const make = useFakeWsTransports()

  it('a socket that never opens is given up on exactly at connectTimeout', async () => {
    const h = make({ connectTimeout: 3_000 })
    void h.t.connect().catch(() => {})
    await advance(2_999)
    expect(h.last().terminated).toBe(false)
    await advance(1)
    expect(h.last().terminated).toBe(true)
    expect(h.events.find((e) => e.name === 'closed')!.payload).toMatchObject({ wasOpen: false, reason: { code: 'TIMEOUT', scope: 'attempt', timeout: 3_000 } })
  })

  it('runs on the injected clock, and does nothing once its connection is gone', async () => {
    const timers: { fn: () => void; ms: number; cleared: boolean }[] = []
    const clock = {
      now: () => 0,
      setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms, cleared: false }) as unknown as NodeJS.Timeout,
      clearTimeout: (handle: NodeJS.Timeout) => void (timers[(handle as unknown as number) - 1]!.cleared = true),
    }
    const h = make({ clock, connectTimeout: 3_000 })
    void h.t.connect().catch(() => {})
    expect(timers.map((t) => t.ms)).toEqual([3_000])
    timers[0]!.fn()
    await tick()
    expect(h.last().terminated).toBe(true)
    expect(h.events.find((e) => e.name === 'closed')!.payload).toMatchObject({ reason: { code: 'TIMEOUT', timeout: 3_000 } })
    // The reconnect wait is on the same clock; the next connection's deadline is its own, and the
    // first one, fired again, ends nothing.
    expect(timers.map((t) => t.ms)).toEqual([3_000, 100])
    timers[1]!.fn()
    await tick()
    expect(h.sockets).toHaveLength(2)
    expect(timers.map((t) => [t.ms, t.cleared])).toEqual([[3_000, true], [100, true], [3_000, false]])
    timers[0]!.fn()
    await tick()
    expect(h.sockets[1]!.terminated).toBe(false)
    h.last().open()
    await tick()
    expect(timers[2]!.cleared).toBe(true)
    expect(h.t.stats().state).toBe('open')
  })


  it('the connect deadline covers the handshake, whose signal aborts with it', async () => {
    let signal: AbortSignal | undefined
    const h = make({
      connectTimeout: 1_000,
      handshake: (request, context) => {
        signal = context.signal
        return request('eth_chainId').then(() => {})
      },
    })
    void h.t.connect().catch(() => {})
    await advance(400)
    h.last().open()
    await advance(599)
    expect(h.last().sent.map((f) => f.method)).toEqual(['eth_chainId'])
    expect(signal!.aborted).toBe(false)
    await advance(1)
    expect(signal!.aborted).toBe(true)
    expect(h.names()).toEqual(['connecting', 'closed', 'reconnect:attempt'])
  })
})

describe('WsConnection: generations', () => {
  const make = useFakeWsTransports()

  it('no timer or event of an old socket acts on the new one', async () => {
    const h = make({ keepalive: { interval: 1_000, timeout: 300 } })
    void h.t.connect().catch(() => {})
    await openLast(h)
    const old = h.last()
    await advance(1_000)
    expect(old.pings).toBe(1)
    // 1. The old socket drops while its pong deadline (at 1_300) is pending.
    old.drop()
    expect(old.activeListeners()).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    // 2. p-retry begins its wait a few microtasks after the loss: that is the only timer left.
    await tick()
    expect(vi.getTimerCount()).toBe(1)
    await advance(100)
    await openLast(h)
    const fresh = h.last()
    expect(fresh).not.toBe(old)
    // 3. Past the old deadline: the new socket lives; its own ping comes one interval after its own open.
    await advance(300)
    expect(fresh.terminated).toBe(false)
    const request = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    // 4. The old socket's late frames, pong and close reach nothing.
    old.receive({ jsonrpc: '2.0', id: fresh.sent[0]!.id, result: 'from the old socket' })
    old.pong()
    old.fire('close', { code: 1006 })
    await tick()
    expect(request.outcome.settled).toBe(false)
    fresh.answer('eth_blockNumber', '0x2')
    await request.done
    expect(request.outcome.value).toBe('0x2')
    // Opened at 1_100: first ping at 2_100; the clock is at 1_400.
    await advance(699)
    expect(fresh.pings).toBe(0)
    await advance(1)
    expect(fresh.pings).toBe(1)
    expect(h.events.filter((e) => e.name === 'closed')).toHaveLength(1)
  })

  it('a timer of an ended connection, fired anyway, acts on nothing: no ping from the old socket, no deadline for the new one', async () => {
    const timers: { fn: () => void; ms: number }[] = []
    const clock = {
      now: () => 0,
      setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms }) as unknown as NodeJS.Timeout,
      clearTimeout: () => {},
    }
    const h = make({ clock, keepalive: { interval: 1_000, timeout: 300 } })
    void h.t.connect().catch(() => {})
    await openLast(h)
    const old = h.last()
    const probe = timers.find((t) => t.ms === 1_000)!
    old.drop()
    await tick()
    // The reconnect wait, on the same clock.
    timers.find((t) => t.ms === 100)!.fn()
    await tick()
    await openLast(h)
    const count = timers.length
    probe.fn()
    expect(old.pings).toBe(0)
    expect(timers).toHaveLength(count)
    expect(h.last().terminated).toBe(false)
  })

  it('requests in flight when the socket drops are rejected at once, requests made meanwhile wait and go out on the next connection', async () => {
    const h = make()
    void h.t.connect().catch(() => {})
    await openLast(h)
    const inFlight = start(h.t.request('eth_call', [], { signal: live() }))
    h.last().drop(1001)
    await tick()
    expect(isResilientRpcError(inFlight.outcome.error, 'NETWORK')).toBe(true)
    const meanwhile = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    expect(h.t.stats()).toMatchObject({ state: 'reconnecting', waiting: 1 })
    await advance(100)
    expect(h.last().sent).toEqual([])
    await openLast(h)
    expect(h.last().sent.map((f) => f.method)).toEqual(['eth_blockNumber'])
    h.last().answer('eth_blockNumber', '0x3')
    await meanwhile.done
    expect(meanwhile.outcome.value).toBe('0x3')
  })

  it('a send on a socket that already closed ends its generation and fails the request as closed', async () => {
    const h = make()
    void h.t.connect().catch(() => {})
    await openLast(h)
    h.last().readyState = 2
    const error = await h.t.request('eth_blockNumber', [], { signal: live() }).catch((e: unknown) => e as ResilientRpcError)
    expect(error).toMatchObject({ code: 'NETWORK', details: 'websocket closed', cause: { details: 'websocket send failed' } })
    expect(h.names().slice(-2)).toEqual(['closed', 'reconnect:attempt'])
  })
})

describe('WsConnection: odd failures', () => {
  const make = useFakeWsTransports()

  it('a WebSocket constructor that throws counts as a failed attempt', async () => {
    let calls = 0
    const WebSocket = function () {
      calls++
      throw new SyntaxError('bad url')
    } as unknown as WebSocketConstructor
    const h = make({ WebSocket })
    void h.t.connect().catch(() => {})
    expect(h.names()).toEqual(['connecting', 'closed'])
    await tick()
    expect(h.names()).toEqual(['connecting', 'closed', 'reconnect:attempt'])
    expect(h.events[1]!.payload.reason).toMatchObject({ code: 'NETWORK', details: 'websocket could not be created' })
    await advance(100)
    expect(calls).toBe(2)
  })

  it('a handshake that throws something else than our errors is wrapped', async () => {
    const h = make({
      handshake: async () => {
        throw new TypeError('oops')
      },
    })
    void h.t.connect().catch(() => {})
    h.last().open()
    await tick()
    expect(h.events.find((e) => e.name === 'closed')!.payload.reason).toMatchObject({ code: 'NETWORK', details: 'websocket handshake failed', cause: { message: 'oops' } })
  })
})

describe('WsConnection: message size bound', () => {
  /** The server's view of how each connection ended, by close code. */
  const closeCodes = () => {
    const codes: number[] = []
    srv.server.on('connection', (socket) => socket.on('close', (code) => codes.push(code)))
    return codes
  }

  it('a message over maxResponseBytes closes the socket with 1009, fails what was pending with INVALID_RESPONSE, then reconnects', async () => {
    const codes = closeCodes()
    const t = srv.transport({ maxResponseBytes: 1_024 })
    const events = record(t)
    await t.connect()
    // At the bound passes: 1024 bytes exactly.
    const exact = 'a'.repeat(1_024 - JSON.stringify({ jsonrpc: '2.0', id: 2, result: '' }).length)
    srv.script = (msg, peer) => (msg.method === 'exact' ? peer.answer(exact) : msg.method === 'big' ? peer.answer('b'.repeat(2_000)) : msg.method === 'hang' ? undefined : srv.node(msg, peer))
    expect(await t.request('exact', [], { signal: live() })).toBe(exact)
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => srv.methods().includes('hang'), 'the hanging request at the server')
    const big = await failure(t.request('big', [], { signal: live() }))
    await hanging.done
    expectCode(big, 'INVALID_RESPONSE')
    expect(big.message).toMatchInlineSnapshot(`
      "Invalid JSON-RPC response: websocket message is too large (over the 1024-byte limit)
      Endpoint: ws://127.0.0.1:0#3
      Details: socket closed with code 1009; every request pending on it failed"
    `)
    expect(hanging.outcome.error).toBe(big)
    expect(classifyError(big)).toEqual({ retryable: true, verdict: 'failure' })
    await waitFor(() => codes.length === 1, 'the server to see the close')
    expect(codes).toEqual([1009])
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('0x10')
    expect(events.names()).toEqual(['connecting', 'open', 'closed', 'reconnect:attempt', 'connecting', 'open'])
    expect(events.log[2]!.payload).toMatchObject({ code: 1009, reason: { code: 'INVALID_RESPONSE' } })
  })

  it('binary frames count too, and so do messages split into fragments', async () => {
    const t = srv.transport({ maxResponseBytes: 1_024 })
    await t.connect()
    srv.script = (msg, peer) => {
      if (msg.method === 'binary') return peer.socket.send(Buffer.alloc(1_025, 0x20), { binary: true })
      if (msg.method !== 'fragments') return srv.node(msg, peer)
      // Three 400-byte fragments: each under the bound, the message over it.
      for (const fin of [false, false, true]) peer.socket.send(Buffer.alloc(400, 0x20), { binary: false, fin })
    }
    expectCode(await failure(t.request('binary', [], { signal: live() })), 'INVALID_RESPONSE')
    expectCode(await failure(t.request('fragments', [], { signal: live() })), 'INVALID_RESPONSE')
    expect(t.stats().opens).toBe(2)
  })

  it('a WebSocket that cannot bound frames (a browser\'s) still has the message refused, unparsed, and the socket closed', async () => {
    const constructed: unknown[] = []
    // Like a browser: drops the options argument, so the whole message arrives.
    const Browserish = function (url: string, protocols?: string | string[], options?: unknown) {
      constructed.push(options)
      return new WebSocket(url, protocols)
    } as unknown as WsTransportOptions['WebSocket']
    const t = srv.transport({ maxResponseBytes: 1_024, WebSocket: Browserish })
    await t.connect()
    srv.script = (msg, peer) => (msg.method === 'big' ? peer.answer('b'.repeat(2_000)) : srv.node(msg, peer))
    const big = await failure(t.request('big', [], { signal: live() }))
    expectCode(big, 'INVALID_RESPONSE')
    expect(big.shortMessage).toBe('Invalid JSON-RPC response: websocket message is too large (over the 1024-byte limit)')
    expect(t.stats().invalidMessages).toBe(0)
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('0x10')
    expect(constructed[0]).toEqual({ maxPayload: 1_024 })
  })

  it('the bound defaults to 32 MiB and is handed to ws as maxPayload', async () => {
    const seen: unknown[] = []
    const Spy = function (url: string, protocols?: string | string[], options?: { maxPayload?: number; headers?: Record<string, string> }) {
      seen.push(options)
      return new WebSocket(url, protocols, options)
    } as unknown as WsTransportOptions['WebSocket']
    await srv.transport({ WebSocket: Spy, headers: { authorization: 'Bearer token' } }).connect()
    expect(seen).toEqual([{ maxPayload: 32 * 1024 * 1024, headers: { authorization: 'Bearer token' } }])
  })
})
