import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { ResilientRpcError } from '../../src/errors/base.js'
import { start, waitFor } from '../support/async.js'
import { createWsTransport } from '../../src/transport/ws.js'
import type { WebSocketConstructor } from '../../src/types/webSocket.js'
import { FakeSocket, advance, openLast, tick, useFakeWsTransports } from './fixtures/fakeWebSocket.js'
import { SELF_SIGNED_CERT, SELF_SIGNED_KEY } from '../fixtures/tls/selfSigned.js'
import { ENDPOINT, SECRET, expectCode, failure, live, record, useWsServer, type Peer, type Rpc } from './fixtures/wsServer.js'

// The WebSocket transport as a whole (src/transport/ws.ts): requests, connection loss, close and
// destroy, against a real `ws` server; destroy's clean-up exactly, on fake sockets and fake timers.

const srv = useWsServer()

describe('createWsTransport: requests', () => {
  it('opens only after the eth_chainId handshake, then sends what waited, in order', async () => {
    const t = srv.transport()
    const events = record(t)
    const [a, b] = await Promise.all([t.request('eth_blockNumber', [], { signal: live() }), t.request('eth_chainId', [], { signal: live() })])
    expect([a, b]).toEqual(['0x10', '0x7a69'])
    expect(srv.methods()).toEqual(['eth_chainId', 'eth_blockNumber', 'eth_chainId'])
    expect(events.names()).toEqual(['connecting', 'open'])
    expect(events.log[0]!.payload).toEqual({ endpoint: ENDPOINT, generation: 1, attempt: 0 })
    expect(t.stats()).toMatchObject({ state: 'open', generation: 1, opens: 1, inFlight: 0, waiting: 0 })
  })

  it('multiplexes by id: answers in any order reach their own callers', async () => {
    const held: { msg: Rpc; peer: Peer }[] = []
    srv.script = (msg, peer) => (msg.method === 'eth_chainId' ? srv.node(msg, peer) : held.push({ msg, peer }))
    const t = srv.transport()
    await t.connect()
    const calls = ['a', 'b', 'c'].map((p) => t.request('echo', [p], { signal: live() }))
    await waitFor(() => held.length === 3, 'three requests at the server')
    for (const { msg, peer } of held.reverse()) peer.reply({ jsonrpc: '2.0', id: msg.id, result: msg.params[0] })
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c'])
  })

  it('sends paramsJson verbatim when given', async () => {
    const t = srv.transport()
    await t.connect()
    srv.script = (msg, peer) => peer.answer(msg.params)
    expect(await t.request('x', ['ignored'], { signal: live(), paramsJson: '["0x1",true]' })).toEqual(['0x1', true])
  })

  it('turns JSON-RPC errors and malformed answers into typed errors', async () => {
    const t = srv.transport()
    await t.connect()
    const rpc = await failure(t.request('nope', [], { signal: live() }))
    expectCode(rpc, 'RPC_ERROR')
    expect(rpc.message).toMatchInlineSnapshot(`
      "RPC error -32601: method not found
      Endpoint: ws://127.0.0.1:0#3"
    `)
    srv.script = (msg, peer) => peer.reply({ jsonrpc: '2.0', id: msg.id })
    expectCode(await failure(t.request('eth_blockNumber', [], { signal: live() })), 'INVALID_RESPONSE')
  })

  it('ignores and counts answers to unknown ids, late answers and frames that are not JSON-RPC', async () => {
    const t = srv.transport()
    await t.connect()
    let late: { msg: Rpc; peer: Peer } | undefined
    srv.script = (msg, peer) => {
      if (msg.method === 'slow') return void (late = { msg, peer })
      peer.reply({ jsonrpc: '2.0', id: 999, result: 'stray' })
      peer.reply({ jsonrpc: '2.0', id: 'x', result: 'stray' })
      peer.socket.send('not json')
      peer.reply(42)
      peer.reply({ jsonrpc: '2.0', result: 'no id' })
      peer.notify('nobody', {})
      peer.socket.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: 'binary' })), { binary: true })
    }
    const aborted = new AbortController()
    const slow = start(t.request('slow', [], { signal: aborted.signal }))
    await waitFor(() => late !== undefined, 'the slow request at the server')
    aborted.abort(new Error('gave up'))
    await slow.done
    expect((slow.outcome.error as Error).message).toBe('gave up')
    late!.peer.reply({ jsonrpc: '2.0', id: late!.msg.id, result: 'too late' })
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('binary')
    expect(t.stats()).toMatchObject({ unknownResponses: 2, lateResponses: 1, invalidMessages: 3, unknownNotifications: 1 })
  })

  it('rejects at once a request whose signal already fired, and one that aborts while waiting for a connection', async () => {
    const t = srv.transport()
    const fired = new AbortController()
    fired.abort(new Error('before'))
    expect((await failure(t.request('eth_blockNumber', [], { signal: fired.signal }))).message).toBe('before')
    srv.refuseWith = 503
    const waiting = new AbortController()
    const pending = start(t.request('eth_blockNumber', [], { signal: waiting.signal }))
    await waitFor(() => t.stats().reconnectAttempt >= 2, 'a few refused attempts')
    expect(pending.outcome.settled).toBe(false)
    expect(t.stats().waiting).toBe(1)
    waiting.abort(new Error('deadline'))
    await pending.done
    expect((pending.outcome.error as Error).message).toBe('deadline')
    expect(t.stats().waiting).toBe(0)
  })
})

describe('createWsTransport: connection loss', () => {
  it('rejects requests in flight at once with a retryable NetworkError when the socket drops, then reconnects', async () => {
    const t = srv.transport()
    const events = record(t)
    await t.connect()
    srv.script = (msg, peer) => (msg.method === 'hang' ? undefined : srv.node(msg, peer))
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => srv.methods().includes('hang'), 'the request at the server')
    srv.peers[0]!.socket.terminate()
    await hanging.done
    const error = hanging.outcome.error as ResilientRpcError
    expectCode(error, 'NETWORK')
    expect(error.message).toMatchInlineSnapshot(`
      "Network error: connection closed by the server
      Endpoint: ws://127.0.0.1:0#3
      Details: websocket closed"
    `)
    expect((error.cause as ResilientRpcError).details).toBe('websocket closed by the peer (code 1006)')
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('0x10')
    expect(events.names()).toEqual(['connecting', 'open', 'closed', 'reconnect:attempt', 'connecting', 'open'])
    expect(events.log[2]!.payload).toMatchObject({ generation: 1, wasOpen: true, code: 1006 })
    expect(events.log[3]!.payload).toMatchObject({ endpoint: ENDPOINT, attempt: 1 })
    expect(t.stats()).toMatchObject({ generation: 2, opens: 2 })
  })

  it('requests made while disconnected wait for the next open', async () => {
    const t = srv.transport()
    await t.connect()
    srv.refuseWith = 503
    srv.peers[0]!.socket.close(1001)
    await waitFor(() => t.stats().state === 'reconnecting', 'the transport to notice')
    const waiting = start(t.request('eth_blockNumber', [], { signal: live() }))
    await waitFor(() => t.stats().reconnectAttempt >= 2, 'refused attempts')
    expect(waiting.outcome.settled).toBe(false)
    srv.refuseWith = undefined
    await waiting.done
    expect(waiting.outcome.value).toBe('0x10')
  })

  it('types a refused upgrade by its status: 401 unauthorized, 429 rate limited, else HTTP error', async () => {
    for (const [status, code] of [
      [401, 'UNAUTHORIZED'],
      [429, 'RATE_LIMITED'],
      [503, 'HTTP_ERROR'],
    ] as const) {
      srv.refuseWith = status
      const t = srv.transport({ reconnect: { maxAttempts: 0 } })
      const closed = new Promise<ResilientRpcError>((resolve) => t.once('closed', (e) => resolve(e.reason)))
      const error = await failure(t.connect())
      expectCode(await closed, code)
      expectCode(error, 'NETWORK')
      expect(error.details).toBe('websocket gave up reconnecting after 0 attempts')
      expect(error.cause).toBe(await closed)
    }
  })

  it('a refused connection is named by its error code, never the address', async () => {
    const t = srv.transport({ url: `ws://127.0.0.1:1/v3/${SECRET}`, reconnect: { maxAttempts: 0 } })
    const closed = new Promise<ResilientRpcError>((resolve) => t.once('closed', (e) => resolve(e.reason)))
    const error = (await failure(t.connect())) as ResilientRpcError
    const reason = await closed
    expectCode(reason, 'NETWORK')
    expect(reason).toMatchObject({ reason: 'connection-refused', causeCode: 'ECONNREFUSED', shortMessage: 'Network error: connection refused (ECONNREFUSED)' })
    expect(reason.details).toBe('websocket error; connect ECONNREFUSED: nothing listens at that host and port')
    // What a request waiting for the connection fails with names it too.
    expect(error).toMatchObject({ code: 'NETWORK', reason: 'connection-refused', causeCode: 'ECONNREFUSED' })
    expect(JSON.stringify([error, reason, error.message, reason.message])).not.toMatch(/SECRET|\/v3\//)
  })

  it('an unresolvable host and a self-signed wss:// certificate are named by their codes', async () => {
    const reasonOf = async (url: string) => {
      const t = srv.transport({ url, reconnect: { maxAttempts: 0 } })
      const closed = new Promise<ResilientRpcError>((resolve) => t.once('closed', (e) => resolve(e.reason)))
      await failure(t.connect())
      return closed
    }
    const unresolved = await reasonOf(`ws://nonexistent.invalid/v3/${SECRET}`)
    // NXDOMAIN for .invalid (RFC 6761); a machine without DNS cannot look it up now.
    expect([unresolved.shortMessage, unresolved]).toEqual(
      (unresolved as { causeCode?: string }).causeCode === 'EAI_AGAIN'
        ? ['Network error: DNS lookup failed (EAI_AGAIN)', expect.objectContaining({ reason: 'dns-unavailable' })]
        : ['Network error: host not found (ENOTFOUND)', expect.objectContaining({ reason: 'host-not-found', causeCode: 'ENOTFOUND' })],
    )
    const tls = createHttpsServer({ key: SELF_SIGNED_KEY, cert: SELF_SIGNED_CERT })
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve))
    try {
      const rejected = await reasonOf(`wss://127.0.0.1:${(tls.address() as AddressInfo).port}/v3/${SECRET}`)
      expect(rejected).toMatchObject({ reason: 'tls-certificate', causeCode: 'DEPTH_ZERO_SELF_SIGNED_CERT', shortMessage: 'Network error: TLS certificate rejected: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)' })
      expect(JSON.stringify([unresolved, rejected, unresolved.message, rejected.message])).not.toMatch(/SECRET|\/v3\//)
    } finally {
      await new Promise<void>((resolve) => tls.close(() => resolve()))
    }
  })

  it('fails the handshake on another chain, retries with back-off, and gives up when the policy says so', async () => {
    srv.script = (msg, peer) => (msg.method === 'eth_chainId' ? peer.answer('0x1') : srv.node(msg, peer))
    const t = srv.transport({ chainId: 31337n, reconnect: { initial: 10, max: 40, giveUp: ({ attempt, error }) => attempt >= 2 && isResilientRpcError(error, 'CHAIN_MISMATCH') } })
    const events = record(t)
    const error = await failure(t.request('eth_blockNumber', [], { signal: live() }))
    expectCode(error, 'NETWORK')
    expect(isResilientRpcError(error.cause, 'CHAIN_MISMATCH')).toBe(true)
    expect(events.names()).toEqual(['connecting', 'closed', 'reconnect:attempt', 'connecting', 'closed', 'reconnect:attempt', 'connecting', 'closed', 'reconnect:gaveUp'])
    expect(events.log.at(-1)!.payload).toMatchObject({ attempts: 2 })
    expect(t.stats().state).toBe('failed')
    expect(srv.methods()).toEqual(['eth_chainId', 'eth_chainId', 'eth_chainId'])
    // connect() starts over.
    srv.script = srv.node
    await t.connect()
    expect(t.stats()).toMatchObject({ state: 'open', reconnectAttempt: 0 })
  })

  it('a custom handshake decides what open means and sees its own connection only', async () => {
    const seen: unknown[] = []
    const t = srv.transport({
      handshake: async (request, { generation, signal }) => {
        seen.push(generation, await request('eth_blockNumber'), signal.aborted)
      },
    })
    await t.connect()
    expect(seen).toEqual([1, '0x10', false])
    expect(srv.methods()).toEqual(['eth_blockNumber'])
  })

  it('a connection whose handshake never completes is closed after connectTimeout and retried', async () => {
    let stall = true
    srv.script = (msg, peer) => (stall && msg.method === 'eth_chainId' ? undefined : srv.node(msg, peer))
    const t = srv.transport({ connectTimeout: 100 })
    const closed = new Promise<{ reason: ResilientRpcError; wasOpen: boolean }>((resolve) => t.once('closed', resolve))
    const pending = start(t.connect())
    const { reason, wasOpen } = await closed
    expectCode(reason, 'TIMEOUT')
    expect(reason.message).toMatchInlineSnapshot(`
      "Attempt timed out after 100 ms
      Endpoint: ws://127.0.0.1:0#3
      Details: websocket connect and handshake"
    `)
    expect(wasOpen).toBe(false)
    stall = false
    await pending.done
    expect(pending.outcome.error).toBeUndefined()
    expect(t.stats().generation).toBe(2)
  })
})

describe('createWsTransport: close and destroy', () => {
  it('close() rejects what is in flight or waiting, stops reconnecting, and the next request reconnects and resubscribes', async () => {
    const t = srv.transport()
    const notices: unknown[] = []
    await t.subscribe(['newHeads'], () => {}, { onResubscribed: (e) => notices.push(e.serverId) })
    srv.script = (msg, peer) => (msg.method === 'hang' ? undefined : srv.node(msg, peer))
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => srv.methods().includes('hang'), 'the request at the server')
    await t.close()
    await hanging.done
    expectCode(hanging.outcome.error, 'NETWORK')
    expect(((hanging.outcome.error as ResilientRpcError).cause as ResilientRpcError).details).toBe('websocket closed by the client')
    expect(t.stats()).toMatchObject({ state: 'idle', subscriptions: 1 })
    await waitFor(() => srv.server.clients.size === 0, 'the server to see the close')
    await new Promise((r) => setTimeout(r, 60))
    expect(t.stats().generation).toBe(1)
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('0x10')
    await waitFor(() => notices.length === 1, 'the resubscription')
    expect(notices).toEqual(['sub-2'])
  })

  it('destroy() rejects everything with POOL_DESTROYED, closes the socket, drops listeners, and is final', async () => {
    const t = srv.transport({ keepalive: { interval: 20, timeout: 1_000 } })
    const events = record(t)
    await t.connect()
    const sub = await t.subscribe(['newHeads'], () => {})
    srv.script = (msg, peer) => (msg.method === 'hang' ? undefined : srv.node(msg, peer))
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => srv.methods().includes('hang'), 'the request at the server')
    const first = t.destroy()
    expect(t.destroy()).toBe(first)
    await first
    await hanging.done
    expectCode(hanging.outcome.error, 'POOL_DESTROYED')
    expect(sub.active).toBe(false)
    expect(events.log.at(-1)).toMatchObject({ name: 'closed', payload: { reason: { code: 'POOL_DESTROYED' } } })
    await waitFor(() => srv.server.clients.size === 0, 'the server to see the close')
    expectCode(await failure(t.request('eth_blockNumber', [], { signal: live() })), 'POOL_DESTROYED')
    expectCode(await failure(t.subscribe(['newHeads'], () => {})), 'POOL_DESTROYED')
    expectCode(await failure(t.connect()), 'POOL_DESTROYED')
    const before = srv.received.length
    await new Promise((r) => setTimeout(r, 80))
    expect(srv.received.length).toBe(before)
    expect(t.stats()).toMatchObject({ state: 'destroyed', inFlight: 0, waiting: 0, subscriptions: 0 })
  })

  it('destroy() while waiting for a connection rejects the waiters and stops the back-off loop', async () => {
    srv.refuseWith = 503
    const t = srv.transport()
    const waiting = start(t.request('eth_blockNumber', [], { signal: live() }))
    await waitFor(() => t.stats().reconnectAttempt >= 1, 'a refused attempt')
    await t.destroy()
    await waiting.done
    expectCode(waiting.outcome.error, 'POOL_DESTROYED')
    const generation = t.stats().generation
    await new Promise((r) => setTimeout(r, 100))
    expect(t.stats().generation).toBe(generation)
  })
})

describe('createWsTransport: options', () => {
  it('nothing connects before the first use', async () => {
    srv.transport()
    await new Promise((r) => setTimeout(r, 50))
    expect(srv.server.clients.size).toBe(0)
  })

  it('passes headers on the upgrade request', async () => {
    let auth: string | undefined
    srv.server.on('headers', (_h, req) => (auth = req.headers.authorization))
    const t = srv.transport({ headers: { authorization: 'Bearer token' } })
    await t.connect()
    expect(auth).toBe('Bearer token')
  })
})

describe('createWsTransport on fake sockets: destroy and signals', () => {
  const make = useFakeWsTransports()

  it.each(['connecting', 'open with a ping out', 'reconnecting'] as const)('destroy() while %s leaves no timer and no listener', async (phase) => {
    const h = make({ keepalive: { interval: 1_000, timeout: 300 } })
    void h.t.connect().catch(() => {})
    if (phase !== 'connecting') await openLast(h)
    if (phase === 'open with a ping out') await advance(1_000)
    if (phase === 'reconnecting') {
      h.last().drop()
      // p-retry starts its wait a few microtasks after the loss.
      await tick()
    }
    expect(vi.getTimerCount()).toBeGreaterThan(0)
    await h.t.destroy()
    expect(vi.getTimerCount()).toBe(0)
    for (const socket of h.sockets) expect(socket.activeListeners()).toBe(0)
    expect(h.t.stats().state).toBe('destroyed')
  })

  it('every abort listener a request adds is removed, whether it is answered, aborted or waited', async () => {
    const h = make()
    const controllers = [new AbortController(), new AbortController(), new AbortController()]
    const spies = controllers.map((c) => ({ add: vi.spyOn(c.signal, 'addEventListener'), remove: vi.spyOn(c.signal, 'removeEventListener') }))
    const [answered, aborted, waited] = controllers.map((c) => start(h.t.request('eth_blockNumber', [], { signal: c.signal })))
    await openLast(h)
    controllers[1]!.abort(new Error('bye'))
    for (const frame of h.last().sent) h.last().receive({ jsonrpc: '2.0', id: frame.id, result: '0x1' })
    await Promise.all([answered!.done, aborted!.done, waited!.done])
    expect([answered!.outcome.value, (aborted!.outcome.error as Error).message, waited!.outcome.value]).toEqual(['0x1', 'bye', '0x1'])
    for (const [i, spy] of spies.entries()) {
      expect(spy.add.mock.calls.length, `controller ${i}`).toBe(2) // waiting for the connection, then in flight
      expect(spy.remove.mock.calls.map((c) => c[1]), `controller ${i}`).toEqual(spy.add.mock.calls.map((c) => c[1]))
    }
    expect(h.t.stats().lateResponses).toBe(1)
  })

})

describe('createWsTransport: background timers', () => {
  it('are unref()ed by default and kept with unref: false: the connect deadline and the reconnect wait, both on the injected clock', async () => {
    for (const unref of [true, false]) {
      const handles: NodeJS.Timeout[] = []
      const clock = {
        now: () => Date.now(),
        setTimeout: (fn: () => void, ms: number) => {
          const handle = setTimeout(fn, ms)
          handles.push(handle)
          return handle
        },
        clearTimeout: (handle: NodeJS.Timeout) => clearTimeout(handle),
      }
      const sockets: FakeSocket[] = []
      const WebSocket = function () {
        sockets.push(new FakeSocket(true))
        return sockets.at(-1)
      } as unknown as WebSocketConstructor
      const t = createWsTransport({ url: 'ws://fake.test/', endpoint: 'fake#0', WebSocket, handshake: async () => {}, keepalive: false, clock, unref, connectTimeout: 60_000, random: () => 0, reconnect: { initial: 60_000, max: 60_000 } })
      try {
        void t.connect().catch(() => {})
        expect(handles.map((x) => x.hasRef())).toEqual([!unref])
        sockets[0]!.fail()
        await new Promise((resolve) => setImmediate(resolve))
        expect(t.stats().state).toBe('reconnecting')
        expect(handles.map((x) => x.hasRef())).toEqual([!unref, !unref])
      } finally {
        await t.destroy()
      }
    }
  })
})
