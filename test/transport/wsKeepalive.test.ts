import { describe, expect, it, vi } from 'vitest'
import type { ResilientRpcError } from '../../src/errors/base.js'
import { waitFor } from '../support/async.js'
import { advance, openLast, useFakeWsTransports } from './fixtures/fakeWebSocket.js'
import { expectCode, useWsServer } from './fixtures/wsServer.js'

// Keepalive (src/transport/wsKeepalive.ts): against a real server that stops answering, and its exact
// deadlines on fake sockets and fake timers.

const srv = useWsServer()

describe('Keepalive', () => {
  it('ping mode: a socket whose pongs stop is terminated and replaced', async () => {
    const t = srv.transport({ keepalive: { interval: 30, timeout: 250 } })
    await t.connect()
    await new Promise((r) => setTimeout(r, 200))
    expect(t.stats().generation).toBe(1)
    srv.pongs = false
    const closed = await new Promise<{ reason: ResilientRpcError }>((resolve) => t.once('closed', resolve))
    expectCode(closed.reason, 'NETWORK')
    expect(closed.reason.details).toBe('websocket keepalive: no pong within 250 ms')
    srv.pongs = true
    await waitFor(() => t.stats().state === 'open' && t.stats().generation === 2, 'a new connection')
    await waitFor(() => srv.server.clients.size === 1, 'the dead socket to be gone at the server')
  })

  it('request mode: a socket that stops answering is replaced; any answer, even an error, counts as alive', async () => {
    let answering = true
    srv.script = (msg, peer) => (answering ? srv.node(msg, peer) : undefined)
    const t = srv.transport({ keepalive: { interval: 30, timeout: 250, mode: 'request', method: 'web3_clientVersion' } })
    await t.connect()
    await waitFor(() => srv.methods().filter((m) => m === 'web3_clientVersion').length >= 3, 'three keepalive requests (answered with an error)')
    expect(t.stats().generation).toBe(1)
    answering = false
    const closed = await new Promise<{ reason: ResilientRpcError }>((resolve) => t.once('closed', resolve))
    expect(closed.reason.details).toBe('websocket keepalive: no answer to web3_clientVersion within 250 ms')
    answering = true
    await waitFor(() => t.stats().state === 'open' && t.stats().generation === 2, 'a new connection')
  })
})

describe('Keepalive on fake timers', () => {
  const make = useFakeWsTransports()

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
    const timers = vi.getTimerCount()
    h.last().pong()
    h.last().pong()
    expect(vi.getTimerCount()).toBe(timers)
    await advance(1_000)
    expect(h.last().pings).toBe(1)
    // The probe's pong deadline, and the connection's stability mark (stableAfter, 10 s).
    expect(vi.getTimerCount()).toBe(2)
  })
})
