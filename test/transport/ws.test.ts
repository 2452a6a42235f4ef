import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { classifyError } from '../../src/errors/classify.js'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { ErrorCode, ResilientRpcError } from '../../src/errors/base.js'
import { createWsTransport } from '../../src/transport/ws.js'
import type { WsTransport, WsTransportEvents } from '../../src/transport/wsOptions.js'
import type { WsTransportOptions } from '../../src/config/webSocketOptions.js'
import { start, waitFor } from '../support/async.js'

// The transport against a real `ws` server on 127.0.0.1, scripted per test to answer, stall, close
// or skip pongs. The URL carries a fake API key in its path: it must never show up in an error.
// Durations are real but short; exact timer arithmetic lives in wsTimers.test.ts.

const ENDPOINT = 'ws://127.0.0.1:0#3'
const SECRET = 'SECRETKEY'

type Rpc = { jsonrpc: '2.0'; id: number; method: string; params: unknown[] }
type Script = (msg: Rpc, peer: Peer) => void
type Peer = { socket: WebSocket; reply: (body: unknown) => void; answer: (result: unknown) => void; notify: (subscription: string, result: unknown) => void }

let server: WebSocketServer
let url: string
let script: Script
let received: Rpc[]
let peers: Peer[]
let pongs: boolean
let refuseWith: number | undefined
let nextSub: number
const transports: WsTransport[] = []

/** Answers like a node: chain id 31337, subscriptions numbered sub-1, sub-2, … */
const node: Script = (msg, peer) => {
  switch (msg.method) {
    case 'eth_chainId':
      return peer.answer('0x7a69')
    case 'eth_blockNumber':
      return peer.answer('0x10')
    case 'eth_subscribe':
      return peer.answer(`sub-${nextSub++}`)
    case 'eth_unsubscribe':
      return peer.answer(true)
    default:
      return peer.reply({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'method not found' } })
  }
}

beforeEach(async () => {
  received = []
  peers = []
  pongs = true
  refuseWith = undefined
  nextSub = 1
  script = node
  server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    autoPong: false,
    verifyClient: (_info, done) => (refuseWith === undefined ? done(true) : done(false, refuseWith)),
  })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v3/${SECRET}`
  server.on('connection', (socket) => {
    let current: Rpc | undefined
    const peer: Peer = {
      socket,
      reply: (body) => socket.send(JSON.stringify(body)),
      answer: (result) => peer.reply({ jsonrpc: '2.0', id: current!.id, result }),
      notify: (subscription, result) => peer.reply({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } }),
    }
    peers.push(peer)
    socket.on('ping', (data) => pongs && socket.pong(data))
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Rpc
      received.push(msg)
      // `answer` replies to the message being handled; a script that defers captures its own copy.
      current = msg
      const self: Peer = { ...peer, answer: (result) => peer.reply({ jsonrpc: '2.0', id: msg.id, result }) }
      script(msg, self)
    })
  })
})

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.destroy()))
  for (const client of server.clients) client.terminate()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

function transport(options: Partial<WsTransportOptions> = {}): WsTransport {
  const t = createWsTransport({ url, endpoint: ENDPOINT, keepalive: false, reconnect: { initial: 10, max: 40 }, connectTimeout: 2_000, ...options })
  transports.push(t)
  return t
}

/** Records every event of a transport, in order, as `name` or `name:detail`. */
function record(t: WsTransport) {
  const log: { name: keyof WsTransportEvents; payload: unknown }[] = []
  for (const name of ['connecting', 'open', 'closed', 'reconnect:attempt', 'reconnect:gaveUp', 'subscription:resubscribed', 'subscription:error', 'error'] as const) {
    t.on(name, (payload: unknown) => log.push({ name, payload }))
  }
  return { log, names: () => log.map((e) => e.name) }
}

const live = () => new AbortController().signal
const methods = () => received.map((m) => m.method)

async function failure(promise: Promise<unknown>): Promise<ResilientRpcError> {
  try {
    await promise
  } catch (error) {
    return error as ResilientRpcError
  }
  throw new Error('expected a rejection')
}

function expectCode(error: unknown, code: ErrorCode) {
  expect(isResilientRpcError(error, code), `expected ${code}, got ${String(error)}`).toBe(true)
  expect((error as ResilientRpcError).endpoint).toBe(ENDPOINT)
  expect(String((error as Error).message)).not.toContain(SECRET)
}

describe('createWsTransport: requests', () => {
  it('opens only after the eth_chainId handshake, then sends what waited, in order', async () => {
    const t = transport()
    const events = record(t)
    const [a, b] = await Promise.all([t.request('eth_blockNumber', [], { signal: live() }), t.request('eth_chainId', [], { signal: live() })])
    expect([a, b]).toEqual(['0x10', '0x7a69'])
    expect(methods()).toEqual(['eth_chainId', 'eth_blockNumber', 'eth_chainId'])
    expect(events.names()).toEqual(['connecting', 'open'])
    expect(events.log[0]!.payload).toEqual({ endpoint: ENDPOINT, generation: 1, attempt: 0 })
    expect(t.stats()).toMatchObject({ state: 'open', generation: 1, opens: 1, inFlight: 0, waiting: 0 })
  })

  it('multiplexes by id: answers in any order reach their own callers', async () => {
    const held: { msg: Rpc; peer: Peer }[] = []
    script = (msg, peer) => (msg.method === 'eth_chainId' ? node(msg, peer) : held.push({ msg, peer }))
    const t = transport()
    await t.connect()
    const calls = ['a', 'b', 'c'].map((p) => t.request('echo', [p], { signal: live() }))
    await waitFor(() => held.length === 3, 'three requests at the server')
    for (const { msg, peer } of held.reverse()) peer.reply({ jsonrpc: '2.0', id: msg.id, result: msg.params[0] })
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c'])
  })

  it('sends paramsJson verbatim when given', async () => {
    const t = transport()
    await t.connect()
    script = (msg, peer) => peer.answer(msg.params)
    expect(await t.request('x', ['ignored'], { signal: live(), paramsJson: '["0x1",true]' })).toEqual(['0x1', true])
  })

  it('turns JSON-RPC errors and malformed answers into typed errors', async () => {
    const t = transport()
    await t.connect()
    const rpc = await failure(t.request('nope', [], { signal: live() }))
    expectCode(rpc, 'RPC_ERROR')
    expect(rpc.message).toMatchInlineSnapshot(`
      "RPC error -32601: method not found
      Endpoint: ws://127.0.0.1:0#3"
    `)
    script = (msg, peer) => peer.reply({ jsonrpc: '2.0', id: msg.id })
    expectCode(await failure(t.request('eth_blockNumber', [], { signal: live() })), 'INVALID_RESPONSE')
  })

  it('ignores and counts answers to unknown ids, late answers and frames that are not JSON-RPC', async () => {
    const t = transport()
    await t.connect()
    let late: { msg: Rpc; peer: Peer } | undefined
    script = (msg, peer) => {
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
    const t = transport()
    const fired = new AbortController()
    fired.abort(new Error('before'))
    expect((await failure(t.request('eth_blockNumber', [], { signal: fired.signal }))).message).toBe('before')
    refuseWith = 503
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
    const t = transport()
    const events = record(t)
    await t.connect()
    script = (msg, peer) => (msg.method === 'hang' ? undefined : node(msg, peer))
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => methods().includes('hang'), 'the request at the server')
    peers[0]!.socket.terminate()
    await hanging.done
    const error = hanging.outcome.error as ResilientRpcError
    expectCode(error, 'NETWORK')
    expect(error.message).toMatchInlineSnapshot(`
      "Network error
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
    const t = transport()
    await t.connect()
    refuseWith = 503
    peers[0]!.socket.close(1001)
    await waitFor(() => t.stats().state === 'reconnecting', 'the transport to notice')
    const waiting = start(t.request('eth_blockNumber', [], { signal: live() }))
    await waitFor(() => t.stats().reconnectAttempt >= 2, 'refused attempts')
    expect(waiting.outcome.settled).toBe(false)
    refuseWith = undefined
    await waiting.done
    expect(waiting.outcome.value).toBe('0x10')
  })

  it('types a refused upgrade by its status: 401 unauthorized, 429 rate limited, else HTTP error', async () => {
    for (const [status, code] of [
      [401, 'UNAUTHORIZED'],
      [429, 'RATE_LIMITED'],
      [503, 'HTTP_ERROR'],
    ] as const) {
      refuseWith = status
      const t = transport({ reconnect: { maxAttempts: 0 } })
      const closed = new Promise<ResilientRpcError>((resolve) => t.once('closed', (e) => resolve(e.reason)))
      const error = await failure(t.connect())
      expectCode(await closed, code)
      expectCode(error, 'NETWORK')
      expect(error.details).toBe('websocket gave up reconnecting after 0 attempts')
      expect(error.cause).toBe(await closed)
    }
  })

  it('a refused connection names the error code only, never the address', async () => {
    const t = transport({ url: `ws://127.0.0.1:1/v3/${SECRET}`, reconnect: { maxAttempts: 0 } })
    const closed = new Promise<ResilientRpcError>((resolve) => t.once('closed', (e) => resolve(e.reason)))
    await failure(t.connect())
    const reason = await closed
    expectCode(reason, 'NETWORK')
    expect(reason.details).toBe('websocket error ECONNREFUSED')
  })

  it('fails the handshake on another chain, retries with back-off, and gives up when the policy says so', async () => {
    script = (msg, peer) => (msg.method === 'eth_chainId' ? peer.answer('0x1') : node(msg, peer))
    const t = transport({ chainId: 31337n, reconnect: { initial: 10, max: 40, giveUp: ({ attempt, error }) => attempt >= 2 && isResilientRpcError(error, 'CHAIN_MISMATCH') } })
    const events = record(t)
    const error = await failure(t.request('eth_blockNumber', [], { signal: live() }))
    expectCode(error, 'NETWORK')
    expect(isResilientRpcError(error.cause, 'CHAIN_MISMATCH')).toBe(true)
    expect(events.names()).toEqual(['connecting', 'closed', 'reconnect:attempt', 'connecting', 'closed', 'reconnect:attempt', 'connecting', 'closed', 'reconnect:gaveUp'])
    expect(events.log.at(-1)!.payload).toMatchObject({ attempts: 2 })
    expect(t.stats().state).toBe('failed')
    expect(methods()).toEqual(['eth_chainId', 'eth_chainId', 'eth_chainId'])
    // connect() starts over.
    script = node
    await t.connect()
    expect(t.stats()).toMatchObject({ state: 'open', reconnectAttempt: 0 })
  })

  it('a custom handshake decides what open means and sees its own connection only', async () => {
    const seen: unknown[] = []
    const t = transport({
      handshake: async (request, { generation, signal }) => {
        seen.push(generation, await request('eth_blockNumber'), signal.aborted)
      },
    })
    await t.connect()
    expect(seen).toEqual([1, '0x10', false])
    expect(methods()).toEqual(['eth_blockNumber'])
  })

  it('a connection whose handshake never completes is closed after connectTimeout and retried', async () => {
    let stall = true
    script = (msg, peer) => (stall && msg.method === 'eth_chainId' ? undefined : node(msg, peer))
    const t = transport({ connectTimeout: 100 })
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

describe('createWsTransport: keepalive', () => {
  it('ping mode: a socket whose pongs stop is terminated and replaced', async () => {
    const t = transport({ keepalive: { interval: 30, timeout: 250 } })
    await t.connect()
    await new Promise((r) => setTimeout(r, 200))
    expect(t.stats().generation).toBe(1)
    pongs = false
    const closed = await new Promise<{ reason: ResilientRpcError }>((resolve) => t.once('closed', resolve))
    expectCode(closed.reason, 'NETWORK')
    expect(closed.reason.details).toBe('websocket keepalive: no pong within 250 ms')
    pongs = true
    await waitFor(() => t.stats().state === 'open' && t.stats().generation === 2, 'a new connection')
    await waitFor(() => server.clients.size === 1, 'the dead socket to be gone at the server')
  })

  it('request mode: a socket that stops answering is replaced; any answer, even an error, counts as alive', async () => {
    let answering = true
    script = (msg, peer) => (answering ? node(msg, peer) : undefined)
    const t = transport({ keepalive: { interval: 30, timeout: 250, mode: 'request', method: 'web3_clientVersion' } })
    await t.connect()
    await waitFor(() => methods().filter((m) => m === 'web3_clientVersion').length >= 3, 'three keepalive requests (answered with an error)')
    expect(t.stats().generation).toBe(1)
    answering = false
    const closed = await new Promise<{ reason: ResilientRpcError }>((resolve) => t.once('closed', resolve))
    expect(closed.reason.details).toBe('websocket keepalive: no answer to web3_clientVersion within 250 ms')
    answering = true
    await waitFor(() => t.stats().state === 'open' && t.stats().generation === 2, 'a new connection')
  })
})

describe('createWsTransport: subscriptions', () => {
  it('routes notifications by subscription id', async () => {
    const t = transport()
    const heads: unknown[] = []
    const logs: unknown[] = []
    const a = await t.subscribe(['newHeads'], (r) => heads.push(r))
    const b = await t.subscribe(['logs', {}], (r) => logs.push(r))
    expect([a.id, a.serverId, b.id, b.serverId]).toEqual([1, 'sub-1', 2, 'sub-2'])
    peers[0]!.notify('sub-2', 'log-1')
    peers[0]!.notify('sub-1', 'head-1')
    peers[0]!.notify('sub-1', 'head-2')
    await waitFor(() => heads.length === 2 && logs.length === 1, 'three notifications')
    expect(heads).toEqual(['head-1', 'head-2'])
    expect(logs).toEqual(['log-1'])
    expect(received.find((m) => m.method === 'eth_subscribe')!.params).toEqual(['newHeads'])
  })

  it('routes notifications sent in the same frame batch as the eth_subscribe answer', async () => {
    script = (msg, peer) => {
      if (msg.method !== 'eth_subscribe') return node(msg, peer)
      // Corked into one TCP write: the client parses both frames in one go, with no promise
      // continuation in between, so the id must be routable as soon as the answer is read.
      const raw = (peer.socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket
      raw.cork()
      peer.answer('sub-x')
      peer.notify('sub-x', 'first')
      process.nextTick(() => raw.uncork())
    }
    const t = transport()
    const got: unknown[] = []
    await t.subscribe(['newHeads'], (r) => got.push(r))
    await waitFor(() => got.length === 1, 'the first notification')
    expect(t.stats().unknownNotifications).toBe(0)
  })

  it('re-subscribes on every new connection under the same handle, telling onResubscribed before new notifications', async () => {
    const t = transport()
    const events = record(t)
    const got: unknown[] = []
    const sub = await t.subscribe(['newHeads'], (r) => got.push(r), { onResubscribed: (e) => got.push({ resubscribed: e.serverId, previous: e.previousServerId, generation: e.generation }) })
    script = (msg, peer) => {
      node(msg, peer)
      if (msg.method === 'eth_subscribe') peer.notify(`sub-${nextSub - 1}`, 'after')
    }
    for (const round of [1, 2]) {
      peers.at(-1)!.socket.terminate()
      await waitFor(() => got.length === round * 2, `resubscription ${round}`)
    }
    expect(got).toEqual([
      { resubscribed: 'sub-2', previous: 'sub-1', generation: 2 },
      'after',
      { resubscribed: 'sub-3', previous: 'sub-2', generation: 3 },
      'after',
    ])
    expect([sub.id, sub.serverId, sub.active]).toEqual([1, 'sub-3', true])
    const notice = events.log.find((e) => e.name === 'subscription:resubscribed')!.payload as { downtime: number }
    expect(notice).toMatchObject({ endpoint: ENDPOINT, id: 1, previousServerId: 'sub-1', serverId: 'sub-2', generation: 2 })
    expect(notice.downtime).toBeGreaterThanOrEqual(0)
  })

  it('unsubscribe() stops delivery at once and ends the subscription on the node and on later connections', async () => {
    const t = transport()
    const got: unknown[] = []
    const sub = await t.subscribe(['newHeads'], (r) => got.push(r))
    const done = sub.unsubscribe()
    expect(sub.unsubscribe()).toBe(done)
    peers[0]!.notify('sub-1', 'too late')
    await done
    expect(received.at(-1)).toMatchObject({ method: 'eth_unsubscribe', params: ['sub-1'] })
    expect([sub.active, sub.serverId, t.stats().subscriptions]).toEqual([false, undefined, 0])
    peers[0]!.socket.terminate()
    await waitFor(() => t.stats().state === 'open' && t.stats().generation === 2, 'a new connection')
    await t.request('eth_blockNumber', [], { signal: live() })
    expect(methods().filter((m) => m === 'eth_subscribe')).toHaveLength(1)
    expect(got).toEqual([])
    expect(t.stats().unknownNotifications).toBe(0)
  })

  it('aborting the signal unsubscribes; aborting before the answer rejects and unsubscribes the late id', async () => {
    const t = transport()
    const controller = new AbortController()
    const sub = await t.subscribe(['newHeads'], () => {}, { signal: controller.signal })
    controller.abort()
    await waitFor(() => methods().includes('eth_unsubscribe'), 'eth_unsubscribe')
    expect(sub.active).toBe(false)

    let held: { msg: Rpc; peer: Peer } | undefined
    script = (msg, peer) => (msg.method === 'eth_subscribe' ? void (held = { msg, peer }) : node(msg, peer))
    const early = new AbortController()
    const pending = start(t.subscribe(['newHeads'], () => {}, { signal: early.signal }))
    await waitFor(() => held !== undefined, 'the second eth_subscribe')
    early.abort(new Error('not any more'))
    await pending.done
    expect((pending.outcome.error as Error).message).toBe('not any more')
    held!.peer.reply({ jsonrpc: '2.0', id: held!.msg.id, result: 'sub-late' })
    await waitFor(() => received.some((m) => m.method === 'eth_unsubscribe' && m.params[0] === 'sub-late'), 'the late subscription to be ended')
    expect(t.stats().subscriptions).toBe(0)
  })

  it('a subscription the new connection refuses ends, with onError and subscription:error', async () => {
    const t = transport()
    const events = record(t)
    const errors: ResilientRpcError[] = []
    const sub = await t.subscribe(['newHeads'], () => {}, { onError: (e) => errors.push(e) })
    script = (msg, peer) => (msg.method === 'eth_subscribe' ? peer.reply({ jsonrpc: '2.0', id: msg.id, error: { code: -32000, message: 'no more subscriptions' } }) : node(msg, peer))
    peers[0]!.socket.terminate()
    await waitFor(() => errors.length === 1, 'onError')
    expectCode(errors[0], 'RPC_ERROR')
    expect(sub.active).toBe(false)
    expect(events.log.find((e) => e.name === 'subscription:error')!.payload).toMatchObject({ endpoint: ENDPOINT, id: 1, error: errors[0] })
  })

  it('a throwing listener is reported as an error event and the transport carries on', async () => {
    const t = transport()
    const events = record(t)
    const got: unknown[] = []
    await t.subscribe(['newHeads'], (r) => {
      got.push(r)
      throw new Error('listener bug')
    })
    peers[0]!.notify('sub-1', 1)
    peers[0]!.notify('sub-1', 2)
    await waitFor(() => got.length === 2, 'both notifications')
    expect(events.log.filter((e) => e.name === 'error').map((e) => (e.payload as Error).message)).toEqual(['listener bug', 'listener bug'])
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('0x10')
  })
})

describe('createWsTransport: close and destroy', () => {
  it('close() rejects what is in flight or waiting, stops reconnecting, and the next request reconnects and resubscribes', async () => {
    const t = transport()
    const notices: unknown[] = []
    await t.subscribe(['newHeads'], () => {}, { onResubscribed: (e) => notices.push(e.serverId) })
    script = (msg, peer) => (msg.method === 'hang' ? undefined : node(msg, peer))
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => methods().includes('hang'), 'the request at the server')
    await t.close()
    await hanging.done
    expectCode(hanging.outcome.error, 'NETWORK')
    expect(((hanging.outcome.error as ResilientRpcError).cause as ResilientRpcError).details).toBe('websocket closed by the client')
    expect(t.stats()).toMatchObject({ state: 'idle', subscriptions: 1 })
    await waitFor(() => server.clients.size === 0, 'the server to see the close')
    await new Promise((r) => setTimeout(r, 60))
    expect(t.stats().generation).toBe(1)
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('0x10')
    await waitFor(() => notices.length === 1, 'the resubscription')
    expect(notices).toEqual(['sub-2'])
  })

  it('destroy() rejects everything with POOL_DESTROYED, closes the socket, drops listeners, and is final', async () => {
    const t = transport({ keepalive: { interval: 20, timeout: 1_000 } })
    const events = record(t)
    await t.connect()
    const sub = await t.subscribe(['newHeads'], () => {})
    script = (msg, peer) => (msg.method === 'hang' ? undefined : node(msg, peer))
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => methods().includes('hang'), 'the request at the server')
    const first = t.destroy()
    expect(t.destroy()).toBe(first)
    await first
    await hanging.done
    expectCode(hanging.outcome.error, 'POOL_DESTROYED')
    expect(sub.active).toBe(false)
    expect(events.log.at(-1)).toMatchObject({ name: 'closed', payload: { reason: { code: 'POOL_DESTROYED' } } })
    await waitFor(() => server.clients.size === 0, 'the server to see the close')
    expectCode(await failure(t.request('eth_blockNumber', [], { signal: live() })), 'POOL_DESTROYED')
    expectCode(await failure(t.subscribe(['newHeads'], () => {})), 'POOL_DESTROYED')
    expectCode(await failure(t.connect()), 'POOL_DESTROYED')
    const before = received.length
    await new Promise((r) => setTimeout(r, 80))
    expect(received.length).toBe(before)
    expect(t.stats()).toMatchObject({ state: 'destroyed', inFlight: 0, waiting: 0, subscriptions: 0 })
  })

  it('destroy() while waiting for a connection rejects the waiters and stops the back-off loop', async () => {
    refuseWith = 503
    const t = transport()
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
    transport()
    await new Promise((r) => setTimeout(r, 50))
    expect(server.clients.size).toBe(0)
  })

  it('passes headers on the upgrade request', async () => {
    let auth: string | undefined
    server.on('headers', (_h, req) => (auth = req.headers.authorization))
    const t = transport({ headers: { authorization: 'Bearer token' } })
    await t.connect()
    expect(auth).toBe('Bearer token')
  })
})

describe('createWsTransport: message size bound', () => {
  /** The server's view of how each connection ended, by close code. */
  const closeCodes = () => {
    const codes: number[] = []
    server.on('connection', (socket) => socket.on('close', (code) => codes.push(code)))
    return codes
  }

  it('a message over maxResponseBytes closes the socket with 1009, fails what was pending with INVALID_RESPONSE, then reconnects', async () => {
    const codes = closeCodes()
    const t = transport({ maxResponseBytes: 1_024 })
    const events = record(t)
    await t.connect()
    // At the bound passes: 1024 bytes exactly.
    const exact = 'a'.repeat(1_024 - JSON.stringify({ jsonrpc: '2.0', id: 2, result: '' }).length)
    script = (msg, peer) => (msg.method === 'exact' ? peer.answer(exact) : msg.method === 'big' ? peer.answer('b'.repeat(2_000)) : msg.method === 'hang' ? undefined : node(msg, peer))
    expect(await t.request('exact', [], { signal: live() })).toBe(exact)
    const hanging = start(t.request('hang', [], { signal: live() }))
    await waitFor(() => methods().includes('hang'), 'the hanging request at the server')
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
    const t = transport({ maxResponseBytes: 1_024 })
    await t.connect()
    script = (msg, peer) => {
      if (msg.method === 'binary') return peer.socket.send(Buffer.alloc(1_025, 0x20), { binary: true })
      if (msg.method !== 'fragments') return node(msg, peer)
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
    const t = transport({ maxResponseBytes: 1_024, WebSocket: Browserish })
    await t.connect()
    script = (msg, peer) => (msg.method === 'big' ? peer.answer('b'.repeat(2_000)) : node(msg, peer))
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
    await transport({ WebSocket: Spy, headers: { authorization: 'Bearer token' } }).connect()
    expect(seen).toEqual([{ maxPayload: 32 * 1024 * 1024, headers: { authorization: 'Bearer token' } }])
  })
})
