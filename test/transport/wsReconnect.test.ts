import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { ResilientRpcError } from '../../src/errors/base.js'
import type { ReconnectPolicy } from '../../src/transport/wsReconnect.js'
import { start } from '../support/async.js'
import { advance, live, openLast, tick, useFakeWsTransports, type Harness } from './fixtures/fakeWebSocket.js'

// The reconnect loop (src/transport/wsReconnect.ts). Its waits are on the transport's clock, here the
// default one on fake timers, with fake sockets; every wait is checked to the millisecond against
// what its `reconnect:attempt` event said.

const POLICY: ReconnectPolicy = { initial: 250, max: 30_000, factor: 2, jitter: 0.5, stableAfter: 10_000, maxAttempts: Infinity, giveUp: undefined }

describe('ReconnectLoop', () => {
  const make = useFakeWsTransports()

  /** Fails the latest socket and lets p-retry decide; returns the wait the event announced. */
  const failAndAnnounce = async (h: Harness) => {
    const before = h.delays().length
    h.last().fail()
    await tick()
    expect(h.delays()).toHaveLength(before + 1)
    return h.delays().at(-1)!
  }

  /** The next socket is created exactly `delay` ms after the announcement, not a millisecond earlier. */
  const expectWaitOf = async (h: Harness, delay: number) => {
    const before = h.sockets.length
    await advance(delay - 1)
    expect(h.sockets.length, `before ${delay} ms`).toBe(before)
    await advance(1)
    expect(h.sockets.length, `at ${delay} ms`).toBe(before + 1)
  }

  it('waits exactly the capped exponential delays between failed attempts, as each reconnect:attempt announced', async () => {
    const h = make()
    void h.t.connect().catch(() => {})
    for (const delay of [100, 200, 400, 800, 1_000, 1_000]) {
      expect(await failAndAnnounce(h)).toBe(delay)
      expect(h.t.stats().state).toBe('reconnecting')
      await expectWaitOf(h, delay)
    }
    expect(h.events.filter((e) => e.name === 'reconnect:attempt').map((e) => e.payload.attempt)).toEqual([1, 2, 3, 4, 5, 6])
    expect(h.events.filter((e) => e.name === 'connecting').map((e) => e.payload.attempt)).toEqual([0, 1, 2, 3, 4, 5, 6])
  })

  it('jitter: one draw of the injected random per run scales its waits, and each announced wait is the one taken', async () => {
    const draws = [0.5, 0.2]
    const random = vi.fn(() => draws.shift()!)
    const h = make({ random, reconnect: { initial: 100, max: 1_000, factor: 2, jitter: 0.5, stableAfter: 5_000 } })
    void h.t.connect().catch(() => {})
    // 1. The first run: scale 0.75 (75, 150, 300, 600, then the cap, 750).
    for (const delay of [75, 150, 300, 600, 750]) {
      expect(await failAndAnnounce(h)).toBe(delay)
      await expectWaitOf(h, delay)
    }
    expect(random).toHaveBeenCalledTimes(1)
    // 2. A stable connection ends the run; losing it starts the next, with its own draw: scale 0.9.
    await openLast(h)
    await advance(5_000)
    h.last().drop()
    await tick()
    expect(h.delays().at(-1)).toBe(90)
    await expectWaitOf(h, 90)
    expect(random).toHaveBeenCalledTimes(2)
  })

  it('starts the back-off over only after a connection stayed up for stableAfter, and waits before the first reconnect', async () => {
    const h = make({ reconnect: { initial: 100, max: 1_000, stableAfter: 10_000 } })
    void h.t.connect().catch(() => {})
    await openLast(h)
    await advance(9_999)
    h.last().drop()
    await tick()
    await advance(100)
    await openLast(h)
    h.last().drop()
    await tick()
    await advance(200)
    await openLast(h)
    await advance(10_000)
    expect(h.t.stats().reconnectAttempt).toBe(0)
    h.last().drop()
    await tick()
    expect(h.delays()).toEqual([100, 200, 100])
    expect(h.t.stats().reconnectAttempt).toBe(1)
    await expectWaitOf(h, 100)
  })

  it('gives up after maxAttempts failed reconnects in a row: waiters and new requests fail at once, no timer is left; connect() starts over', async () => {
    const h = make({ reconnect: { initial: 100, max: 1_000, maxAttempts: 2 } })
    const waiting = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    h.last().fail()
    await tick()
    await advance(100)
    h.last().fail()
    await tick()
    await advance(200)
    h.last().fail()
    await waiting.done
    const error = waiting.outcome.error as ResilientRpcError
    expect(error.message).toMatchInlineSnapshot(`
      "Network error: connection refused (ECONNREFUSED)
      Endpoint: fake#0
      Details: websocket gave up reconnecting after 2 attempts; ECONNREFUSED: nothing listens at that host and port"
    `)
    expect(isResilientRpcError(error.cause, 'NETWORK') && error.cause.details).toBe('websocket error; ECONNREFUSED: nothing listens at that host and port')
    expect(h.names().slice(-2)).toEqual(['closed', 'reconnect:gaveUp'])
    expect(h.events.at(-1)!.payload).toMatchObject({ endpoint: 'fake#0', attempts: 2 })
    expect(h.t.stats()).toMatchObject({ state: 'failed', reconnectAttempt: 2 })
    expect(vi.getTimerCount()).toBe(0)
    const again = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    await again.done
    expect((again.outcome.error as ResilientRpcError).details).toBe('websocket gave up reconnecting after 2 attempts; ECONNREFUSED: nothing listens at that host and port')
    expect(h.sockets).toHaveLength(3)
    const connected = start(h.t.connect())
    expect(h.sockets).toHaveLength(4)
    await openLast(h)
    await connected.done
    expect(connected.outcome.error).toBeUndefined()
    expect(h.t.stats().reconnectAttempt).toBe(0)
  })

  it('asks giveUp after each failed attempt, with the reconnects made so far and the error; true stops at once', async () => {
    const asked: [number, string | undefined][] = []
    const h = make({
      reconnect: {
        initial: 100,
        giveUp: ({ attempt, error }) => {
          asked.push([attempt, error.details])
          return attempt === 1
        },
      },
    })
    const connected = start(h.t.connect())
    h.last().fail()
    await tick()
    await advance(100)
    h.last().fail()
    await connected.done
    expect(asked).toEqual([
      [0, 'websocket error; ECONNREFUSED: nothing listens at that host and port'],
      [1, 'websocket error; ECONNREFUSED: nothing listens at that host and port'],
    ])
    expect(h.delays()).toEqual([100])
    expect(h.events.at(-1)).toMatchObject({ name: 'reconnect:gaveUp', payload: { attempts: 1 } })
    expect(vi.getTimerCount()).toBe(0)
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
    await tick()
    expect(h.names()).toEqual(['connecting', 'closed', 'error', 'reconnect:attempt'])
    await advance(100)
    await openLast(h)
  })

  it('hurry() ends a back-off wait at once, but never less than 250 ms after the previous attempt began', async () => {
    const h = make({ reconnect: { initial: 4_000, max: 30_000 } })
    void h.t.connect().catch(() => {})
    expect(await failAndAnnounce(h)).toBe(4_000)
    // 1. 100 ms after the failed attempt began: the next one comes 150 ms later, not at once.
    await advance(100)
    expect(h.t.hurry()).toBe(false)
    await expectWaitOf(h, 150)
    // 2. Later than that into a wait: at once. The schedule goes on (8 s next), and hurrying during an
    // attempt changes nothing.
    expect(h.t.hurry()).toBe(false)
    expect(h.sockets).toHaveLength(2)
    expect(await failAndAnnounce(h)).toBe(8_000)
    await advance(1_000)
    h.t.hurry()
    await tick()
    expect(h.sockets).toHaveLength(3)
    // 3. However often it is called, each attempt refused at once: one attempt per 250 ms.
    const refusedAt: number[] = []
    const begin = Date.now()
    for (let i = 0; i < 60; i++) {
      if (h.last().readyState !== 3) {
        refusedAt.push(Date.now() - begin)
        h.last().fail()
      }
      h.t.hurry()
      await advance(10)
    }
    expect(refusedAt).toEqual([0, 250, 500])
    expect(h.delays()).toEqual([4_000, 8_000, 16_000, 30_000, 30_000])
    // 4. Open, it says so.
    h.t.hurry()
    await advance(150)
    await openLast(h)
    expect(h.t.hurry()).toBe(true)
  })

  it('hurry() with no wait in progress (idle, connecting, open, closed) starts nothing', async () => {
    const h = make()
    expect(h.t.hurry()).toBe(false)
    expect(h.sockets).toHaveLength(0)
    void h.t.connect().catch(() => {})
    h.t.hurry()
    expect(h.sockets).toHaveLength(1)
    await openLast(h)
    await h.t.close()
    h.t.hurry()
    await advance(1_000)
    expect(h.sockets).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('close() during a wait ends the loop, wait included; the next request starts a new run at once', async () => {
    const h = make()
    void h.t.connect().catch(() => {})
    await failAndAnnounce(h)
    expect(vi.getTimerCount()).toBe(1)
    await h.t.close()
    expect(vi.getTimerCount()).toBe(0)
    expect(h.t.stats()).toMatchObject({ state: 'idle', reconnectAttempt: 0 })
    await advance(10_000)
    expect(h.sockets).toHaveLength(1)
    const request = start(h.t.request('eth_blockNumber', [], { signal: live() }))
    expect(h.sockets).toHaveLength(2)
    expect(h.events.filter((e) => e.name === 'connecting').map((e) => e.payload.attempt)).toEqual([0, 0])
    await openLast(h)
    h.last().answer('eth_blockNumber', '0x1')
    await request.done
    expect(request.outcome.value).toBe('0x1')
  })
})
