import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { ResilientRpcError } from '../../src/errors/base.js'
import { createWsTransport } from '../../src/transport/ws.js'
import type { WebSocketConstructor, WebSocketEventLike, WebSocketLike } from '../../src/types/webSocket.js'
import type { WsTransport, WsTransportEvents } from '../../src/transport/wsOptions.js'
import type { WsTransportOptions } from '../../src/config/webSocketOptions.js'
import { start } from '../support/async.js'

// Timer arithmetic of the WebSocket transport, exactly, on fake timers and an in-memory socket the
// test drives by hand: back-off delays, their reset after a stable connection, keepalive deadlines,
// connect timeouts, and that no timer of one connection generation ever acts on the next.

type Listener = (event: WebSocketEventLike) => void
type Frame = { id: number; method: string; params: unknown[] }

class FakeSocket implements WebSocketLike {
  readyState = 0
  binaryType: string | undefined
  readonly sent: Frame[] = []
  pings = 0
  terminated = false
  readonly listeners = new Map<string, Set<Listener>>()
  readonly pongListeners = new Set<() => void>()
  ping?: () => void
  on?: (event: 'pong', listener: () => void) => unknown
  off?: (event: 'pong', listener: () => void) => unknown

  constructor(canPing: boolean) {
    if (canPing) {
      this.ping = () => void this.pings++
      this.on = (_event, listener) => this.pongListeners.add(listener)
      this.off = (_event, listener) => this.pongListeners.delete(listener)
    }
  }

  send(data: string) {
    if (this.readyState !== 1) throw new Error(`not open: readyState ${this.readyState}`)
    this.sent.push(JSON.parse(data) as Frame)
  }
  close(code = 1000) {
    this.drop(code)
  }
  terminate() {
    this.terminated = true
    this.drop(1006)
  }
  addEventListener(type: string, listener: Listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set())
    this.listeners.get(type)!.add(listener)
  }
  removeEventListener(type: string, listener: Listener) {
    this.listeners.get(type)?.delete(listener)
  }

  // ---- driven by the test ----
  fire(type: string, event: WebSocketEventLike = {}) {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event)
  }
  open() {
    this.readyState = 1
    this.fire('open')
  }
  receive(body: unknown) {
    this.fire('message', { data: JSON.stringify(body) })
  }
  answer(method: string, result: unknown) {
    const frame = this.sent.filter((f) => f.method === method).at(-1)!
    this.receive({ jsonrpc: '2.0', id: frame.id, result })
  }
  pong() {
    for (const listener of [...this.pongListeners]) listener()
  }
  drop(code = 1006) {
    if (this.readyState === 3) return
    this.readyState = 3
    this.fire('close', { code })
  }
  fail(error: Error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) {
    this.fire('error', { error })
    this.drop(1006)
  }
  /** Listeners the transport still holds, beyond the two it keeps on purpose (a no-op error and the close watcher). */
  activeListeners() {
    const all = [...this.listeners.values()].reduce((n, set) => n + set.size, 0)
    return all - 2 + this.pongListeners.size
  }
}

type Harness = {
  t: WsTransport
  sockets: FakeSocket[]
  last: () => FakeSocket
  events: { name: keyof WsTransportEvents; payload: Record<string, unknown> }[]
  names: () => string[]
  delays: () => number[]
}

const transports: WsTransport[] = []

function make(options: Partial<WsTransportOptions> = {}, { canPing = true } = {}): Harness {
  const sockets: FakeSocket[] = []
  const WebSocket = function () {
    const socket = new FakeSocket(canPing)
    sockets.push(socket)
    return socket
  } as unknown as WebSocketConstructor
  const t = createWsTransport({
    url: 'ws://fake.test/v3/SECRETKEY',
    endpoint: 'fake#0',
    WebSocket,
    handshake: async () => {},
    random: () => 0,
    reconnect: { initial: 100, max: 1_000, factor: 2, jitter: 0.5 },
    keepalive: false,
    ...options,
  })
  transports.push(t)
  const events: Harness['events'] = []
  for (const name of ['connecting', 'open', 'closed', 'reconnect:attempt', 'reconnect:gaveUp', 'error'] as const) {
    t.on(name, (payload: unknown) => events.push({ name, payload: payload as Record<string, unknown> }))
  }
  return {
    t,
    sockets,
    last: () => sockets.at(-1)!,
    events,
    names: () => events.map((e) => e.name),
    delays: () => events.filter((e) => e.name === 'reconnect:attempt').map((e) => e.payload.delay as number),
  }
}

const tick = () => vi.advanceTimersByTimeAsync(0)
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms)
const live = () => new AbortController().signal

/** Opens the latest socket and lets the handshake finish. */
async function openLast(h: Harness) {
  h.last().open()
  await tick()
  expect(h.t.stats().state).toBe('open')
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.destroy()))
  vi.useRealTimers()
})

describe('ws transport timers: reconnect back-off', () => {
  it('waits exactly the capped exponential delays between failed attempts', async () => {
    const h = make()
    void h.t.connect().catch(() => {})
    for (const delay of [100, 200, 400, 800, 1_000, 1_000]) {
      const before = h.sockets.length
      h.last().fail()
      expect(h.delays().at(-1)).toBe(delay)
      await advance(delay - 1)
      expect(h.sockets.length).toBe(before)
      await advance(1)
      expect(h.sockets.length).toBe(before + 1)
    }
    expect(h.events.filter((e) => e.name === 'reconnect:attempt').map((e) => e.payload.attempt)).toEqual([1, 2, 3, 4, 5, 6])
    expect(h.events.filter((e) => e.name === 'connecting').map((e) => e.payload.attempt)).toEqual([0, 1, 2, 3, 4, 5, 6])
  })

  it('jitters each delay down by up to `jitter` of it, with the injected random', async () => {
    const rolls = [0, 1, 0.5]
    const h = make({ random: () => rolls.shift()! })
    void h.t.connect().catch(() => {})
    for (const delay of [100, 100, 300]) {
      h.last().fail()
      expect(h.delays().at(-1)).toBe(delay)
      await advance(delay)
    }
  })

  it('starts the back-off over only after a connection stayed up for stableAfter', async () => {
    const h = make({ reconnect: { initial: 100, max: 1_000, stableAfter: 10_000 } })
    void h.t.connect().catch(() => {})
    await openLast(h)
    await advance(9_999)
    h.last().drop()
    await advance(100)
    await openLast(h)
    h.last().drop()
    await advance(200)
    await openLast(h)
    await advance(10_000)
    h.last().drop()
    expect(h.delays()).toEqual([100, 200, 100])
    expect(h.t.stats().reconnectAttempt).toBe(1)
  })

  it('gives up after maxAttempts failed reconnects in a row: waiters and new requests fail at once, no timer is left; connect() starts over', async () => {
    const h = make({ reconnect: { initial: 100, max: 1_000, maxAttempts: 2 } })
    const waiting = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    h.last().fail()
    await advance(100)
    h.last().fail()
    await advance(200)
    h.last().fail()
    await waiting.done
    const error = waiting.outcome.error as ResilientRpcError
    expect(error.message).toMatchInlineSnapshot(`
      "Network error
      Endpoint: fake#0
      Details: websocket gave up reconnecting after 2 attempts"
    `)
    expect(isResilientRpcError(error.cause, 'NETWORK') && error.cause.details).toBe('websocket error ECONNREFUSED')
    expect(h.names().slice(-2)).toEqual(['closed', 'reconnect:gaveUp'])
    expect(h.events.at(-1)!.payload).toMatchObject({ endpoint: 'fake#0', attempts: 2 })
    expect(h.t.stats().state).toBe('failed')
    expect(vi.getTimerCount()).toBe(0)
    const again = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    await again.done
    expect((again.outcome.error as ResilientRpcError).details).toBe('websocket gave up reconnecting after 2 attempts')
    expect(h.sockets).toHaveLength(3)
    const connected = start(h.t.connect())
    expect(h.sockets).toHaveLength(4)
    await openLast(h)
    await connected.done
    expect(connected.outcome.error).toBeUndefined()
  })

  it('a throwing giveUp policy is reported and does not stop reconnecting', async () => {
    const h = make({
      reconnect: {
        initial: 100,
        giveUp: () => {
          throw new Error('policy bug')
        },
      },
    })
    void h.t.connect().catch(() => {})
    h.last().fail()
    expect(h.names()).toEqual(['connecting', 'error', 'closed', 'reconnect:attempt'])
    await advance(100)
    await openLast(h)
  })
})

describe('ws transport timers: connect timeout and handshake', () => {
  it('a socket that never opens is given up on exactly at connectTimeout', async () => {
    const h = make({ connectTimeout: 3_000 })
    void h.t.connect().catch(() => {})
    await advance(2_999)
    expect(h.last().terminated).toBe(false)
    await advance(1)
    expect(h.last().terminated).toBe(true)
    expect(h.events.find((e) => e.name === 'closed')!.payload).toMatchObject({ wasOpen: false, reason: { code: 'TIMEOUT', scope: 'attempt', timeout: 3_000 } })
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

  it('the default handshake checks eth_chainId against chainId; open comes only after it', async () => {
    const h = make({ handshake: undefined, chainId: 5n })
    void h.t.connect().catch(() => {})
    h.last().open()
    await tick()
    expect(h.t.stats().state).toBe('connecting')
    h.last().answer('eth_chainId', '0x1')
    await tick()
    expect(h.events.find((e) => e.name === 'closed')!.payload.reason).toMatchObject({ code: 'CHAIN_MISMATCH', expected: 5n, actual: 1n })
    await advance(100)
    h.last().open()
    h.last().answer('eth_chainId', 'five')
    await tick()
    expect((h.events.filter((e) => e.name === 'closed')[1]!.payload.reason as Error).message).toMatchInlineSnapshot(`
      "Invalid JSON-RPC response: eth_chainId returned "five", expected a hex quantity
      Endpoint: fake#0"
    `)
    await advance(200)
    h.last().open()
    h.last().answer('eth_chainId', '0x5')
    await tick()
    expect(h.names().at(-1)).toBe('open')
  })
})

describe('ws transport timers: keepalive', () => {
  it('ping mode: pings every interval after the last pong; a pong missing for `timeout` kills the socket', async () => {
    const h = make({ keepalive: { interval: 1_000, timeout: 300 } })
    void h.t.connect().catch(() => {})
    await openLast(h)
    await advance(999)
    expect(h.last().pings).toBe(0)
    await advance(1)
    expect(h.last().pings).toBe(1)
    await advance(100)
    h.last().pong()
    await advance(999)
    expect(h.last().pings).toBe(1)
    await advance(1)
    expect(h.last().pings).toBe(2)
    await advance(299)
    expect(h.last().terminated).toBe(false)
    await advance(1)
    expect(h.last().terminated).toBe(true)
    expect((h.events.find((e) => e.name === 'closed')!.payload.reason as ResilientRpcError).details).toBe('websocket keepalive: no pong within 300 ms')
  })

  it('request mode (no protocol ping): a cheap request every interval; no answer within timeout kills the socket', async () => {
    const h = make({ keepalive: { interval: 1_000, timeout: 300 } }, { canPing: false })
    void h.t.connect().catch(() => {})
    await openLast(h)
    await advance(1_000)
    expect(h.last().sent.map((f) => f.method)).toEqual(['eth_chainId'])
    h.last().receive({ jsonrpc: '2.0', id: h.last().sent[0]!.id, error: { code: -32601, message: 'nope' } })
    await advance(1_000)
    expect(h.last().sent).toHaveLength(2)
    await advance(299)
    expect(h.last().terminated).toBe(false)
    await advance(1)
    expect(h.last().terminated).toBe(true)
    expect(h.t.stats().lateResponses).toBe(0)
  })

  it('unsolicited pongs prove nothing and schedule nothing', async () => {
    const h = make({ keepalive: { interval: 1_000, timeout: 300 } })
    void h.t.connect().catch(() => {})
    await openLast(h)
    h.last().pong()
    h.last().pong()
    await advance(1_000)
    expect(h.last().pings).toBe(1)
    expect(vi.getTimerCount()).toBe(1)
  })
})

describe('ws transport timers: connection generations', () => {
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
    expect(vi.getTimerCount()).toBe(1) // the reconnect timer only
    await advance(100)
    await openLast(h)
    const fresh = h.last()
    expect(fresh).not.toBe(old)
    // 2. Past the old deadline: the new socket lives; its own ping comes one interval after its own open.
    await advance(300)
    expect(fresh.terminated).toBe(false)
    const request = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    // 3. The old socket's late frames, pong and close reach nothing.
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

describe('ws transport timers: subscriptions across generations', () => {
  it('an unsubscribe() while the resubscription is on its way ends the new server id too', async () => {
    const h = make()
    void h.t.connect().catch(() => {})
    await openLast(h)
    const pending = start(h.t.subscribe(['newHeads'], () => {}))
    await tick()
    h.last().answer('eth_subscribe', '0xa')
    await pending.done
    const sub = pending.outcome.value!
    h.last().drop()
    await advance(100)
    await openLast(h)
    expect(h.last().sent.map((f) => f.method)).toEqual(['eth_subscribe'])
    await sub.unsubscribe()
    h.last().answer('eth_subscribe', '0xb')
    expect(h.last().sent.map((f) => [f.method, f.params])).toEqual([
      ['eth_subscribe', ['newHeads']],
      ['eth_unsubscribe', ['0xb']],
    ])
    h.last().receive({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: '0xb', result: {} } })
    expect(h.t.stats()).toMatchObject({ subscriptions: 0, unknownNotifications: 1 })
  })

  it('many subscriptions come back on a new connection without piling listeners onto one signal', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on('warning', onWarning)
    try {
      const h = make()
      void h.t.connect().catch(() => {})
      await openLast(h)
      const subs = Array.from({ length: 30 }, () => start(h.t.subscribe(['newHeads'], () => {})))
      await tick()
      for (const frame of h.last().sent) h.last().receive({ jsonrpc: '2.0', id: frame.id, result: `0x${frame.id}` })
      await Promise.all(subs.map((s) => s.done))
      h.last().drop()
      await advance(100)
      await openLast(h)
      expect(h.last().sent).toHaveLength(30)
      for (const frame of h.last().sent) h.last().receive({ jsonrpc: '2.0', id: frame.id, result: `0x${frame.id}` })
      expect(subs.map((s) => s.outcome.value!.serverId)).toEqual(h.last().sent.map((f) => `0x${f.id}`))
      await new Promise((r) => process.nextTick(r))
      expect(warnings).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('ws transport timers: odd failures', () => {
  it('a WebSocket constructor that throws counts as a failed attempt', async () => {
    let calls = 0
    const WebSocket = function () {
      calls++
      throw new SyntaxError('bad url')
    } as unknown as WebSocketConstructor
    const h = make({ WebSocket })
    void h.t.connect().catch(() => {})
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

describe('ws transport timers: destroy and signals', () => {
  it.each(['connecting', 'open with a ping out', 'reconnecting'] as const)('destroy() while %s leaves no timer and no listener', async (phase) => {
    const h = make({ keepalive: { interval: 1_000, timeout: 300 } })
    void h.t.connect().catch(() => {})
    if (phase !== 'connecting') await openLast(h)
    if (phase === 'open with a ping out') await advance(1_000)
    if (phase === 'reconnecting') h.last().drop()
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

  it('timers are unref()ed by default and kept with unref: false', async () => {
    vi.useRealTimers()
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
      const h = make({ clock, unref, connectTimeout: 60_000 })
      void h.t.connect().catch(() => {})
      expect(handles.map((x) => x.hasRef())).toEqual([!unref])
      await h.t.destroy()
    }
  })
})
