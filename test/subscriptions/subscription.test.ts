import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { NetworkError } from '../../src/errors/endpoint.js'
import type { ResilientRpcError } from '../../src/errors/base.js'
import type { BlockHeader, HeadsReorg } from '../../src/subscriptions/heads.js'
import type { RpcLog } from '../../src/subscriptions/logs.js'
import { createSubscription, type HeadsSubscribeOptions, type LogsSubscribeOptions, type PushEndpoint, type PushSubscription, type SubscriptionHost, type SubscriptionSource } from '../../src/subscriptions/subscription.js'
import { systemClock } from '../../src/util/clock.js'

// createSubscription on fake timers, a scripted host (a linear chain answering the pool's requests)
// and fake WebSocket transports whose subscribe() the test resolves or rejects by hand.

const hex = (n: number | bigint) => `0x${n.toString(16)}`
const hashOf = (n: number, fork = 0) => `0x${fork.toString(16).padStart(8, '0')}${n.toString(16).padStart(56, '0')}`
const header = (n: number, fork = 0): BlockHeader => ({ number: hex(n), hash: hashOf(n, fork), parentHash: n === 0 ? hashOf(0, 0xff) : hashOf(n - 1, fork) })

type PushOptions = Parameters<PushEndpoint['subscribe']>[2]
type Call = { params: unknown[]; onMessage: (value: unknown) => void; options: PushOptions; resolve: () => void; reject: (e: unknown) => void; sub: PushSubscription & { unsubscribe: ReturnType<typeof vi.fn> } }

function fakeTransport() {
  const calls: Call[] = []
  let next = 0
  const transport = {
    subscribe: vi.fn((params: unknown[], onMessage: (value: unknown) => void, options: PushOptions = {}) =>
      new Promise<PushSubscription>((resolve, reject) => {
        const sub = { id: ++next, serverId: `0x${next}`, active: true, unsubscribe: vi.fn(async () => void (sub.active = false)) }
        calls.push({ params, onMessage, options, resolve: () => resolve(sub), reject, sub })
      }),
    ),
  }
  return { transport: transport as PushEndpoint, calls, subscribe: transport.subscribe }
}

function fakeHost() {
  let height = 5
  let fork = 0
  const blocks = new Map<string, BlockHeader>()
  const tip = () => header(height, fork)
  for (let n = 0; n <= height; n++) blocks.set(hashOf(n), header(n))
  const chainLogs: RpcLog[] = []
  const requests: string[] = []
  const failures: string[] = [] // methods that fail once each, in order of listing
  const sockets: Array<{ id: string; transport: PushEndpoint }> = []
  const changeListeners = new Set<() => void>()
  const errors: unknown[] = []
  const sources: SubscriptionSource[] = []
  const host: SubscriptionHost = {
    request: vi.fn(async (method: string, params: readonly unknown[], _signal: AbortSignal) => {
      requests.push(method)
      const failing = failures.indexOf(method)
      if (failing >= 0) {
        failures.splice(failing, 1)
        throw new NetworkError({ details: `${method} failed` })
      }
      switch (method) {
        case 'eth_getBlockByNumber':
          return params[0] === 'latest' ? tip() : header(Number(BigInt(params[0] as string)), fork)
        case 'eth_getBlockByHash':
          return blocks.get(params[0] as string) ?? null
        case 'eth_blockNumber':
          return hex(height)
        case 'eth_getLogs': {
          const { fromBlock, toBlock } = params[0] as { fromBlock: string; toBlock: string }
          return chainLogs.filter((l) => BigInt(l.blockNumber) >= BigInt(fromBlock) && BigInt(l.blockNumber) <= BigInt(toBlock))
        }
      }
      throw new Error(`unexpected ${method}`)
    }),
    webSockets: () => [...sockets],
    onChange: (listener) => {
      changeListeners.add(listener)
      return () => void changeListeners.delete(listener)
    },
    sourceChanged: (_id, source) => void sources.push(source),
    error: (e) => void errors.push(e),
    clock: systemClock,
  }
  return {
    host,
    requests,
    failures,
    sockets,
    changeListeners,
    errors,
    sources,
    chainLogs,
    count: (method: string) => requests.filter((m) => m === method).length,
    /** Mines `k` blocks on the current branch. */
    mine(k = 1) {
      for (let i = 0; i < k; i++) {
        height++
        blocks.set(hashOf(height, fork), header(height, fork))
      }
      return tip()
    },
    /** Replaces the blocks above `base` with a new branch of the same length. */
    reorg(base: number) {
      const top = height
      fork++
      for (let n = base + 1; n <= top; n++) {
        const h = { ...header(n, fork), parentHash: n === base + 1 ? hashOf(base, fork - 1) : hashOf(n - 1, fork) }
        blocks.set(h.hash, h)
      }
      return blocks.get(hashOf(top, fork))!
    },
    tip,
    changed: () => {
      for (const l of [...changeListeners]) l()
    },
  }
}

const numbers = (items: BlockHeader[]) => items.map((h) => Number(BigInt(h.number)))
const flush = () => vi.advanceTimersByTimeAsync(0)

function subscribeHeads(f: ReturnType<typeof fakeHost>, options: HeadsSubscribeOptions = {}, listener?: (h: BlockHeader) => void) {
  const got: BlockHeader[] = []
  const onError = vi.fn((_e: ResilientRpcError) => {})
  const end = createSubscription(f.host, 7, 'newHeads', undefined, ((h: BlockHeader) => (listener ? listener(h) : got.push(h))) as (item: never) => void, { pollInterval: 100, onError, ...options })
  return { got, end, onError }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('createSubscription: polling', () => {
  it('polls every pollInterval when no WebSocket endpoint is up', async () => {
    const f = fakeHost()
    const s = subscribeHeads(f)
    await flush()
    expect(numbers(s.got)).toEqual([5])
    expect(f.sources).toEqual([{ kind: 'polling' }])
    f.mine(2)
    await vi.advanceTimersByTimeAsync(99)
    expect(numbers(s.got)).toEqual([5])
    await vi.advanceTimersByTimeAsync(1)
    expect(numbers(s.got)).toEqual([5, 6, 7])
    expect(f.count('eth_getBlockByNumber')).toBe(2)
    await vi.advanceTimersByTimeAsync(300)
    expect(f.count('eth_getBlockByNumber')).toBe(5)
    expect(numbers(s.got)).toEqual([5, 6, 7])
    expect(s.onError).not.toHaveBeenCalled()
    s.end()
  })

  it('reports a failed backfill request and retries it after pollInterval', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const s = subscribeHeads(f, { pollInterval: 500 })
    f.failures.push('eth_getBlockByNumber')
    a.calls[0]!.resolve()
    await flush()
    expect(s.onError).toHaveBeenCalledTimes(1)
    expect(isResilientRpcError(s.onError.mock.calls[0]![0], 'NETWORK')).toBe(true)
    expect(s.got).toEqual([])
    await vi.advanceTimersByTimeAsync(499)
    expect(f.count('eth_getBlockByNumber')).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(f.count('eth_getBlockByNumber')).toBe(2)
    expect(numbers(s.got)).toEqual([5])
    s.end()
  })
})

describe('createSubscription: WebSocket', () => {
  it('switches to a WebSocket endpoint that comes up, and stops polling only once eth_subscribe answered', async () => {
    const f = fakeHost()
    const s = subscribeHeads(f)
    await flush()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    f.changed()
    expect(a.subscribe).toHaveBeenCalledTimes(1)
    expect(a.calls[0]!.params).toEqual(['newHeads'])
    // Not confirmed yet: polling goes on.
    f.mine()
    await vi.advanceTimersByTimeAsync(100)
    expect(numbers(s.got)).toEqual([5, 6])
    expect(f.sources).toEqual([{ kind: 'polling' }])
    a.calls[0]!.resolve()
    await flush()
    expect(f.sources).toEqual([{ kind: 'polling' }, { kind: 'websocket', endpoint: 'ws#0' }])
    const polls = f.count('eth_getBlockByNumber')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(f.count('eth_getBlockByNumber')).toBe(polls)
    // Items come from the subscription now; a missed one is fetched by hash.
    f.mine(2)
    a.calls[0]!.onMessage(f.tip())
    await flush()
    expect(numbers(s.got)).toEqual([5, 6, 7, 8])
    expect(f.count('eth_getBlockByHash')).toBe(1)
    s.end()
  })

  it('falls back to polling when the endpoint goes, unsubscribing; moves to another endpoint when one is up', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    const b = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const s = subscribeHeads(f)
    a.calls[0]!.resolve()
    await flush()
    expect(numbers(s.got)).toEqual([5])
    f.sockets.length = 0
    f.mine()
    f.changed()
    expect(a.calls[0]!.sub.unsubscribe).toHaveBeenCalledTimes(1)
    await flush()
    expect(numbers(s.got)).toEqual([5, 6]) // a backfill at once, not a pollInterval later
    expect(f.sources.at(-1)).toEqual({ kind: 'polling' })
    // A message from the dropped subscription is not applied.
    a.calls[0]!.onMessage(header(99))
    await flush()
    expect(numbers(s.got)).toEqual([5, 6])

    f.sockets.push({ id: 'ws#0', transport: a.transport }, { id: 'ws#1', transport: b.transport })
    f.changed()
    a.calls[1]!.resolve()
    await flush()
    expect(f.sources.at(-1)).toEqual({ kind: 'websocket', endpoint: 'ws#0' })
    f.sockets.splice(0, 1)
    f.changed()
    expect(a.calls[1]!.sub.unsubscribe).toHaveBeenCalledTimes(1)
    expect(b.subscribe).toHaveBeenCalledTimes(1)
    b.calls[0]!.resolve()
    f.mine()
    await flush()
    expect(f.sources.at(-1)).toEqual({ kind: 'websocket', endpoint: 'ws#1' })
    expect(numbers(s.got)).toEqual([5, 6, 7])
    // The unchanged endpoint set does not resubscribe.
    f.changed()
    expect(b.subscribe).toHaveBeenCalledTimes(1)
    s.end()
  })

  it('an endpoint that refuses eth_subscribe: reported, polling, and asked again after 10 poll intervals', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const s = subscribeHeads(f)
    a.calls[0]!.reject(new NetworkError({ details: 'refused' }))
    await flush()
    expect(s.onError).toHaveBeenCalledTimes(1)
    expect(f.sources).toEqual([{ kind: 'polling' }])
    expect(numbers(s.got)).toEqual([5])
    f.changed()
    expect(a.subscribe).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1_001)
    expect(a.subscribe).toHaveBeenCalledTimes(2)
    s.end()
  })

  it('onResubscribed triggers a backfill: heads sent while the socket was away are delivered', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const s = subscribeHeads(f)
    a.calls[0]!.resolve()
    await flush()
    f.mine(3)
    const before = f.count('eth_getBlockByNumber')
    a.calls[0]!.options.onResubscribed!()
    await flush()
    expect(f.count('eth_getBlockByNumber')).toBe(before + 1)
    expect(numbers(s.got)).toEqual([5, 6, 7, 8])
    s.end()
  })

  it('a reorg reaches onReorg before the replacing heads', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const order: string[] = []
    const s = subscribeHeads(f, { onReorg: (e: HeadsReorg) => order.push(`reorg ${e.removed.map((r) => r.number).join(',')}`) }, (h) => order.push(`head ${BigInt(h.number)}`))
    a.calls[0]!.resolve()
    await flush()
    a.calls[0]!.onMessage(f.mine(2)) // 7, with 6 fetched
    await flush()
    const replaced = f.reorg(5) // 6 and 7 replaced
    a.calls[0]!.onMessage(replaced)
    await flush()
    expect(order).toEqual(['head 5', 'head 6', 'head 7', 'reorg 6,7', 'head 6', 'head 7'])
    expect(f.count('eth_getBlockByHash')).toBe(2)
    s.end()
  })

  it('a listener that throws is reported to onError and delivery goes on', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const seen: number[] = []
    const boom = new Error('listener bug')
    const s = subscribeHeads(f, {}, (h) => {
      seen.push(Number(BigInt(h.number)))
      if (seen.length === 1) throw boom
    })
    a.calls[0]!.resolve()
    await flush()
    f.mine(2)
    a.calls[0]!.onMessage(f.tip()) // 7: 6 is fetched and delivered first
    await flush()
    expect(seen).toEqual([5, 6, 7])
    expect(s.onError).toHaveBeenCalledTimes(1)
    const reported = s.onError.mock.calls[0]![0]
    expect(reported).toBeInstanceOf(NetworkError)
    expect(reported.cause).toBe(boom)
    s.end()
  })

  it('without onError, a throwing listener goes to host.error', async () => {
    const f = fakeHost()
    const end = createSubscription(f.host, 1, 'newHeads', undefined, (() => {
      throw new Error('x')
    }) as (item: never) => void, { pollInterval: 100 })
    await flush()
    expect(f.errors).toHaveLength(1)
    expect(isResilientRpcError(f.errors[0], 'NETWORK')).toBe(true)
    end()
  })
})

describe('createSubscription: logs', () => {
  it('polls eth_blockNumber and eth_getLogs with the filter and a hex block range', async () => {
    const f = fakeHost()
    const got: RpcLog[] = []
    const filter = { address: `0x${'1'.repeat(40)}`, topics: [`0x${'e'.repeat(64)}`] }
    const end = createSubscription(f.host, 2, 'logs', filter, ((l: RpcLog) => got.push(l)) as (item: never) => void, { pollInterval: 100 } satisfies LogsSubscribeOptions)
    await flush()
    expect(f.count('eth_getLogs')).toBe(0) // the first sync fixes the start
    f.mine(2)
    const l = { address: filter.address, topics: filter.topics, data: '0x', blockNumber: '0x7', blockHash: hashOf(7), transactionHash: hashOf(70), transactionIndex: '0x0', logIndex: '0x0' }
    f.chainLogs.push(l)
    await vi.advanceTimersByTimeAsync(100)
    expect(f.host.request).toHaveBeenCalledWith('eth_getLogs', [{ ...filter, fromBlock: '0x6', toBlock: '0x7' }], expect.anything())
    expect(got).toEqual([l])
    end()
  })
})

describe('createSubscription: ending and options', () => {
  for (const how of ['returned function', 'options.signal'] as const) {
    it(`ending by the ${how} clears every timer, unsubscribes and stops listening to the host`, async () => {
      const f = fakeHost()
      const a = fakeTransport()
      const controller = new AbortController()
      const s = subscribeHeads(f, { signal: controller.signal })
      await flush()
      f.sockets.push({ id: 'ws#0', transport: a.transport })
      f.changed()
      a.calls[0]!.resolve()
      f.failures.push('eth_getBlockByNumber') // a retry timer is pending too
      await flush()
      expect(vi.getTimerCount()).toBeGreaterThan(0)
      expect(f.changeListeners.size).toBe(1)
      if (how === 'options.signal') controller.abort()
      else s.end()
      expect(vi.getTimerCount()).toBe(0)
      expect(a.calls[0]!.sub.unsubscribe).toHaveBeenCalledTimes(1)
      expect(a.calls[0]!.options.signal?.aborted).toBe(true)
      expect(f.changeListeners.size).toBe(0)
      const requests = f.requests.length
      a.calls[0]!.onMessage(f.mine())
      await vi.advanceTimersByTimeAsync(10_000)
      expect(f.requests.length).toBe(requests)
      s.end() // idempotent
    })
  }

  it('ending while eth_subscribe is pending unsubscribes the late subscription', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const s = subscribeHeads(f)
    s.end()
    a.calls[0]!.resolve()
    await flush()
    expect(a.calls[0]!.sub.unsubscribe).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(s.got).toEqual([])
  })

  it.each([
    ['maxBackfill', { maxBackfill: 0 }],
    ['maxBackfill', { maxBackfill: 1.5 }],
    ['pollInterval', { pollInterval: 5 }],
    ['pollInterval', { pollInterval: Number.NaN }],
    ['pollInterval', { pollInterval: Number.POSITIVE_INFINITY }],
  ])('rejects an invalid %s with INVALID_OPTION, before touching the host', (option, options) => {
    const f = fakeHost()
    expect(() => createSubscription(f.host, 1, 'newHeads', undefined, (() => {}) as (item: never) => void, options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option }))
    expect(f.changeListeners.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects a listener that is not a function with INVALID_OPTION', () => {
    const f = fakeHost()
    expect(() => createSubscription(f.host, 1, 'newHeads', undefined, 'nope' as never, {})).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'listener' }))
  })
})

describe('createSubscription: known gaps in recovery', () => {
  it('an options.signal aborted before the call: nothing starts, even when endpoints change later', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    const s = subscribeHeads(f, { signal: AbortSignal.abort() })
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    f.changed()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(a.subscribe).not.toHaveBeenCalled()
    expect(f.requests).toEqual([])
    expect(f.changeListeners.size).toBe(0)
    s.end()
  })

  it('logs mined while the socket was away are delivered even if the backfill after onResubscribed failed once', async () => {
    const f = fakeHost()
    const a = fakeTransport()
    f.sockets.push({ id: 'ws#0', transport: a.transport })
    const got: RpcLog[] = []
    const onError = vi.fn()
    const end = createSubscription(f.host, 3, 'logs', {}, ((l: RpcLog) => got.push(l)) as (item: never) => void, { pollInterval: 100, onError })
    a.calls[0]!.resolve()
    await flush() // the first sync fixes the start at 5
    const mk = (n: number) => ({ address: `0x${'1'.repeat(40)}`, topics: [], data: '0x', blockNumber: hex(n), blockHash: hashOf(n), transactionHash: hashOf(n + 100), transactionIndex: '0x0', logIndex: '0x0' })
    // The socket drops; block 7 has a log the node never pushes (it was mined while away).
    f.mine(2)
    f.chainLogs.push(mk(7))
    f.failures.push('eth_getLogs')
    a.calls[0]!.options.onResubscribed!()
    await flush()
    expect(onError).toHaveBeenCalledTimes(1)
    // Back on the new connection, a live log for block 9 arrives before the retry.
    f.mine(2)
    f.chainLogs.push(mk(9))
    a.calls[0]!.onMessage(mk(9))
    await vi.advanceTimersByTimeAsync(100)
    expect(got.map((l) => Number(BigInt(l.blockNumber)))).toContain(7)
    end()
  })
})
