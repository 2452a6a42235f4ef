import { beforeAll, describe, expect, it } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { ResilientRpcError } from '../../src/errors/base.js'
import { createWsTransport } from '../../src/transport/ws.js'
import type { WsResubscribed, WsTransport } from '../../src/transport/wsOptions.js'
import type { WsTransportOptions } from '../../src/config/webSocketOptions.js'
import { start, waitFor } from '../support/async.js'
import { runInChild } from '../support/runInChild.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import type { WsFaultProxy } from '../support/wsFaultProxy.js'

// The WebSocket transport against a real anvil (WebSocket on its HTTP port) through the WebSocket
// fault proxy. Assertions lean on what the proxy counted, not on wall-clock times.

type Head = { number: string; hash: string; parentHash: string }

const node = useProxiedAnvil({ ws: 1 })
let proxy: WsFaultProxy

beforeAll(() => {
  proxy = node.ws[0]!
})

/** A transport destroyed, its socket closed at the proxy, before the next test. */
function transport(options: Partial<WsTransportOptions> = {}): WsTransport {
  return node.track(
    createWsTransport({
      url: `${proxy.url}/ws/SECRETKEY`,
      endpoint: 'anvil-ws',
      chainId: 31337n,
      connectTimeout: 1_000,
      // Generous: a keepalive that fires on a loaded CI machine would reconnect in the middle of a test.
      keepalive: { interval: 100, timeout: 1_000 },
      reconnect: { initial: 20, max: 100 },
      ...options,
    }),
  )
}

const deadline = (ms = 10_000) => AbortSignal.timeout(ms)
const num = (hex: string) => Number(BigInt(hex))

function nextEvent<T>(t: WsTransport, name: 'closed' | 'open' | 'subscription:resubscribed'): Promise<T> {
  return new Promise((resolve) => t.once(name, (e: unknown) => resolve(e as T)))
}

describe('ws transport against anvil', () => {
  it('answers requests after the chain-id handshake, with typed RPC errors', async () => {
    const t = transport()
    const head = await t.request('eth_blockNumber', [], { signal: deadline() })
    expect(head).toBe(await node.anvil.rpc('eth_blockNumber'))
    const block = (await t.request('eth_getBlockByNumber', ['latest', false], { signal: deadline() })) as Head
    expect(block.number).toBe(head)
    const error = await t.request('eth_getBalance', ['not an address', 'latest'], { signal: deadline() }).catch((e: unknown) => e as ResilientRpcError)
    expect(isResilientRpcError(error, 'RPC_ERROR')).toBe(true)
    expect(proxy.methodCounts()).toEqual({ eth_chainId: 1, eth_blockNumber: 1, eth_getBlockByNumber: 1, eth_getBalance: 1 })
    expect(t.stats()).toMatchObject({ state: 'open', opens: 1, unknownResponses: 0, invalidMessages: 0 })
  })

  it('a newHeads subscription receives every block mined with anvil_mine, in order', async () => {
    const t = transport()
    const heads: Head[] = []
    await t.subscribe(['newHeads'], (h) => heads.push(h as Head), { signal: deadline() })
    const from = num(await node.anvil.rpc<string>('eth_blockNumber'))
    await node.anvil.mine(3)
    await waitFor(() => heads.length === 3, 'three heads')
    expect(heads.map((h) => num(h.number))).toEqual([from + 1, from + 2, from + 3])
    expect(heads[1]!.parentHash).toBe(heads[0]!.hash)
  })

  it('survives a drop: resubscribes, tells the gap before the next head, and the gap can be backfilled by number', async () => {
    const t = transport()
    const seen: (Head | WsResubscribed)[] = []
    const sub = await t.subscribe(['newHeads'], (h) => seen.push(h as Head), { onResubscribed: (e) => seen.push(e) })
    const firstId = sub.serverId
    await node.anvil.mine(1)
    await waitFor(() => seen.length === 1, 'the first head')
    const closed = nextEvent<{ reason: ResilientRpcError; wasOpen: boolean }>(t, 'closed')
    proxy.setMode({ kind: 'drop' })
    expect(await closed).toMatchObject({ wasOpen: true, reason: { code: 'NETWORK' } })
    // 1. Blocks mined while no socket is up are not pushed to anybody.
    await node.anvil.mine(2)
    await waitFor(() => proxy.refused() >= 1, 'a refused reconnect')
    proxy.setMode({ kind: 'pass' })
    await waitFor(() => seen.length === 2, 'the resubscribed notice')
    await node.anvil.mine(1)
    await waitFor(() => seen.length === 3, 'a head after the reconnect')
    const [before, notice, after] = seen as [Head, WsResubscribed, Head]
    expect(notice).toMatchObject({ id: sub.id, previousServerId: firstId, serverId: sub.serverId, generation: t.stats().generation })
    expect(sub.serverId).not.toBe(firstId)
    expect(num(after.number) - num(before.number)).toBe(3)
    // 2. The notice is what lets a caller fill the gap: the two missing heads, fetched by number, link up.
    const missing = await Promise.all(
      [1, 2].map((i) => t.request('eth_getBlockByNumber', [`0x${(num(before.number) + i).toString(16)}`, false], { signal: deadline() }) as Promise<Head>),
    )
    const chain = [before, ...missing, after]
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.parentHash).toBe(chain[i - 1]!.hash)
    expect(proxy.methodCounts().eth_subscribe).toBe(2)
  })

  it('a silent socket is found dead by keepalive and replaced', async () => {
    const t = transport({ keepalive: { interval: 50, timeout: 300 } })
    await t.connect({ signal: deadline() })
    const closed = nextEvent<{ reason: ResilientRpcError }>(t, 'closed')
    proxy.setMode({ kind: 'silent' })
    const { reason } = await closed
    expect(reason.details).toBe('websocket keepalive: no pong within 300 ms')
    expect(proxy.pings()).toBeGreaterThanOrEqual(1)
    proxy.setMode({ kind: 'pass' })
    await waitFor(() => t.stats().state === 'open' && t.stats().generation >= 2, 'a new connection')
    expect(await t.request('eth_chainId', [], { signal: deadline() })).toBe('0x7a69')
    expect(proxy.connections()).toBeGreaterThanOrEqual(2)
  })

  it('requests in flight at a drop reject at once with a typed retryable error; requests made while down wait or abort', async () => {
    const t = transport({ keepalive: false })
    await t.connect({ signal: deadline() })
    proxy.setMode({ kind: 'delay', ms: 5_000 })
    const inFlight = start(t.request('eth_blockNumber', [], { signal: deadline(20_000) }))
    await waitFor(() => proxy.methodCounts().eth_blockNumber === 1, 'the request at the proxy')
    proxy.setMode({ kind: 'drop' })
    await inFlight.done
    const error = inFlight.outcome.error as ResilientRpcError
    // NETWORK, not the 20 s deadline: nothing stays pending on a dead socket.
    expect(error).toMatchObject({ code: 'NETWORK', details: 'websocket closed', endpoint: 'anvil-ws' })
    expect(error.message).not.toContain('SECRETKEY')

    const impatient = start(t.request('eth_blockNumber', [], { signal: deadline(50) }))
    const patient = start(t.request('eth_blockNumber', [], { signal: deadline() }))
    await impatient.done
    expect(impatient.outcome.error).toMatchObject({ name: 'TimeoutError' })
    expect(patient.outcome.settled).toBe(false)
    proxy.setMode({ kind: 'pass' })
    await patient.done
    expect(patient.outcome.value).toBe(await node.anvil.rpc('eth_blockNumber'))
  })

  it('an endpoint on another chain fails the handshake and the give-up policy stops the retries', async () => {
    proxy.setMode({ kind: 'wrongChain', chainId: 1 })
    const t = transport({ reconnect: { initial: 20, max: 100, giveUp: ({ error }) => isResilientRpcError(error, 'CHAIN_MISMATCH') } })
    const error = await t.connect({ signal: deadline() }).catch((e: unknown) => e as ResilientRpcError)
    expect(error).toMatchObject({ code: 'NETWORK', cause: { code: 'CHAIN_MISMATCH', expected: 31337n, actual: 1n } })
    expect(t.stats().state).toBe('failed')
    expect(proxy.methodCounts()).toEqual({ eth_chainId: 1 })
  })

  it('destroy() leaves nothing running: a child process with long ref()ed timers, a subscription and pending requests exits on its own', async () => {
    const result = await runInChild('test/integration/fixtures/wsDestroy.ts', { env: { WS_URL: proxy.url }, timeout: 10_000 })
    expect(result.stderr).toBe('')
    expect(result.exitedOnItsOwn).toBe(true)
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ live: 'open', liveInFlight: 1, dead: 'reconnecting', inFlight: 'POOL_DESTROYED', waiting: 'POOL_DESTROYED' })
    expect(proxy.methodCounts()).toMatchObject({ eth_chainId: 1, eth_subscribe: 1, eth_blockNumber: 1 })
  })
})
