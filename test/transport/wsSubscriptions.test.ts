import { describe, expect, it } from 'vitest'
import type { ResilientRpcError } from '../../src/errors/base.js'
import { start, waitFor } from '../support/async.js'
import { advance, openLast, tick, useFakeWsTransports } from './fixtures/fakeWebSocket.js'
import { ENDPOINT, expectCode, live, record, useWsServer, type Peer, type Rpc } from './fixtures/wsServer.js'

// Subscriptions (src/transport/wsSubscriptions.ts): routing, resubscription on every new connection,
// unsubscribe and refusals, against a real server and on fake sockets.

const srv = useWsServer()

describe('SubscriptionRegistry', () => {
  it('routes notifications by subscription id', async () => {
    const t = srv.transport()
    const heads: unknown[] = []
    const logs: unknown[] = []
    const a = await t.subscribe(['newHeads'], (r) => heads.push(r))
    const b = await t.subscribe(['logs', {}], (r) => logs.push(r))
    expect([a.id, a.serverId, b.id, b.serverId]).toEqual([1, 'sub-1', 2, 'sub-2'])
    srv.peers[0]!.notify('sub-2', 'log-1')
    srv.peers[0]!.notify('sub-1', 'head-1')
    srv.peers[0]!.notify('sub-1', 'head-2')
    await waitFor(() => heads.length === 2 && logs.length === 1, 'three notifications')
    expect(heads).toEqual(['head-1', 'head-2'])
    expect(logs).toEqual(['log-1'])
    expect(srv.received.find((m) => m.method === 'eth_subscribe')!.params).toEqual(['newHeads'])
  })

  it('routes notifications sent in the same frame batch as the eth_subscribe answer', async () => {
    srv.script = (msg, peer) => {
      if (msg.method !== 'eth_subscribe') return srv.node(msg, peer)
      // Corked into one TCP write: the client parses both frames in one go, with no promise
      // continuation in between, so the id must be routable as soon as the answer is read.
      const raw = (peer.socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket
      raw.cork()
      peer.answer('sub-x')
      peer.notify('sub-x', 'first')
      process.nextTick(() => raw.uncork())
    }
    const t = srv.transport()
    const got: unknown[] = []
    await t.subscribe(['newHeads'], (r) => got.push(r))
    await waitFor(() => got.length === 1, 'the first notification')
    expect(t.stats().unknownNotifications).toBe(0)
  })

  it('re-subscribes on every new connection under the same handle, telling onResubscribed before new notifications', async () => {
    const t = srv.transport()
    const events = record(t)
    const got: unknown[] = []
    const sub = await t.subscribe(['newHeads'], (r) => got.push(r), { onResubscribed: (e) => got.push({ resubscribed: e.serverId, previous: e.previousServerId, generation: e.generation }) })
    srv.script = (msg, peer) => {
      srv.node(msg, peer)
      if (msg.method === 'eth_subscribe') peer.notify(`sub-${srv.nextSub - 1}`, 'after')
    }
    for (const round of [1, 2]) {
      srv.peers.at(-1)!.socket.terminate()
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
    const t = srv.transport()
    const got: unknown[] = []
    const sub = await t.subscribe(['newHeads'], (r) => got.push(r))
    const done = sub.unsubscribe()
    expect(sub.unsubscribe()).toBe(done)
    srv.peers[0]!.notify('sub-1', 'too late')
    await done
    expect(srv.received.at(-1)).toMatchObject({ method: 'eth_unsubscribe', params: ['sub-1'] })
    expect([sub.active, sub.serverId, t.stats().subscriptions]).toEqual([false, undefined, 0])
    srv.peers[0]!.socket.terminate()
    await waitFor(() => t.stats().state === 'open' && t.stats().generation === 2, 'a new connection')
    await t.request('eth_blockNumber', [], { signal: live() })
    expect(srv.methods().filter((m) => m === 'eth_subscribe')).toHaveLength(1)
    expect(got).toEqual([])
    expect(t.stats().unknownNotifications).toBe(0)
  })

  it('aborting the signal unsubscribes; aborting before the answer rejects and unsubscribes the late id', async () => {
    const t = srv.transport()
    const controller = new AbortController()
    const sub = await t.subscribe(['newHeads'], () => {}, { signal: controller.signal })
    controller.abort()
    await waitFor(() => srv.methods().includes('eth_unsubscribe'), 'eth_unsubscribe')
    expect(sub.active).toBe(false)

    let held: { msg: Rpc; peer: Peer } | undefined
    srv.script = (msg, peer) => (msg.method === 'eth_subscribe' ? void (held = { msg, peer }) : srv.node(msg, peer))
    const early = new AbortController()
    const pending = start(t.subscribe(['newHeads'], () => {}, { signal: early.signal }))
    await waitFor(() => held !== undefined, 'the second eth_subscribe')
    early.abort(new Error('not any more'))
    await pending.done
    expect((pending.outcome.error as Error).message).toBe('not any more')
    held!.peer.reply({ jsonrpc: '2.0', id: held!.msg.id, result: 'sub-late' })
    await waitFor(() => srv.received.some((m) => m.method === 'eth_unsubscribe' && m.params[0] === 'sub-late'), 'the late subscription to be ended')
    expect(t.stats().subscriptions).toBe(0)
  })

  it('a subscription the new connection refuses ends, with onError and subscription:error', async () => {
    const t = srv.transport()
    const events = record(t)
    const errors: ResilientRpcError[] = []
    const sub = await t.subscribe(['newHeads'], () => {}, { onError: (e) => errors.push(e) })
    srv.script = (msg, peer) => (msg.method === 'eth_subscribe' ? peer.reply({ jsonrpc: '2.0', id: msg.id, error: { code: -32000, message: 'no more subscriptions' } }) : srv.node(msg, peer))
    srv.peers[0]!.socket.terminate()
    await waitFor(() => errors.length === 1, 'onError')
    expectCode(errors[0], 'RPC_ERROR')
    expect(sub.active).toBe(false)
    expect(events.log.find((e) => e.name === 'subscription:error')!.payload).toMatchObject({ endpoint: ENDPOINT, id: 1, error: errors[0] })
  })

  it('a throwing listener is reported as an error event and the transport carries on', async () => {
    const t = srv.transport()
    const events = record(t)
    const got: unknown[] = []
    await t.subscribe(['newHeads'], (r) => {
      got.push(r)
      throw new Error('listener bug')
    })
    srv.peers[0]!.notify('sub-1', 1)
    srv.peers[0]!.notify('sub-1', 2)
    await waitFor(() => got.length === 2, 'both notifications')
    expect(events.log.filter((e) => e.name === 'error').map((e) => (e.payload as Error).message)).toEqual(['listener bug', 'listener bug'])
    expect(await t.request('eth_blockNumber', [], { signal: live() })).toBe('0x10')
  })
})

describe('SubscriptionRegistry across generations', () => {
  const make = useFakeWsTransports()

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
