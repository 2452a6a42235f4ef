import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startAnvil, type Anvil } from './anvil.js'
import { waitFor } from './async.js'
import { createWsFaultProxy, type WsFaultProxy } from './wsFaultProxy.js'

// The proxy itself, with a bare `ws` client, in front of a real anvil: each mode must do what the
// transport's tests rely on it doing.

type Answer = { id?: unknown; result?: unknown; error?: unknown; method?: string; params?: { subscription: string; result: { number: string } } }

let anvil: Anvil
let proxy: WsFaultProxy
const clients: WebSocket[] = []

beforeAll(async () => {
  anvil = await startAnvil()
  proxy = await createWsFaultProxy(anvil.url)
})
afterAll(async () => {
  await proxy?.close()
  await anvil?.stop()
})
beforeEach(() => {
  proxy.setMode({ kind: 'pass' })
  proxy.resetCounts()
})
afterEach(() => {
  for (const c of clients.splice(0)) c.terminate()
})

/** A raw client that records every frame and can await answers by id. */
async function client(): Promise<{ ws: WebSocket; frames: Answer[]; call: (method: string, params?: unknown[], ms?: number) => Promise<Answer | undefined>; closed: Promise<number> }> {
  const ws = new WebSocket(proxy.url)
  clients.push(ws)
  const frames: Answer[] = []
  let nextId = 1
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Answer))
  ws.on('error', () => {})
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const call = async (method: string, params: unknown[] = [], ms = 2_000) => {
    const id = nextId++
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    try {
      await waitFor(() => frames.some((f) => f.id === id), `answer to ${method}`, ms)
    } catch {
      return undefined
    }
    return frames.find((f) => f.id === id)
  }
  return { ws, frames, call, closed }
}

function pinged(ws: WebSocket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    ws.once('pong', () => (clearTimeout(t), resolve(true)))
    ws.ping()
  })
}

describe('createWsFaultProxy', () => {
  it('pass: forwards requests, subscriptions and pings, and counts connections, frames and methods', async () => {
    const c = await client()
    expect((await c.call('eth_chainId'))?.result).toBe('0x7a69')
    const sub = await c.call('eth_subscribe', ['newHeads'])
    expect(typeof sub?.result).toBe('string')
    await anvil.mine(1)
    await waitFor(() => c.frames.some((f) => f.method === 'eth_subscription'), 'a newHeads notification')
    expect(await pinged(c.ws, 1_000)).toBe(true)
    expect(proxy.connections()).toBe(1)
    expect(proxy.openConnections()).toBe(1)
    expect(proxy.messages()).toBe(2)
    expect(proxy.methodCounts()).toEqual({ eth_chainId: 1, eth_subscribe: 1 })
    expect(proxy.pings()).toBe(1)
  })

  it('drop: terminates open sockets at once and refuses new ones with 503 until set back', async () => {
    const c = await client()
    proxy.setMode({ kind: 'drop' })
    expect(await c.closed).toBe(1006)
    await waitFor(() => proxy.openConnections() === 0, 'the proxy to forget the dropped socket')
    const refused = new WebSocket(proxy.url)
    const status = await new Promise<string>((resolve) => refused.once('error', (e) => resolve(e.message)))
    expect(status).toBe('Unexpected server response: 503')
    expect(proxy.refused()).toBe(1)
    proxy.setMode({ kind: 'pass' })
    const again = await client()
    expect((await again.call('eth_blockNumber'))?.result).toMatch(/^0x/)
  })

  it('silent: keeps the socket open but answers nothing, forwards no notification and sends no pong', async () => {
    const c = await client()
    await c.call('eth_subscribe', ['newHeads'])
    proxy.setMode({ kind: 'silent' })
    expect(await c.call('eth_chainId', [], 300)).toBeUndefined()
    const before = c.frames.length
    await anvil.mine(1)
    expect(await pinged(c.ws, 300)).toBe(false)
    expect(c.frames.length).toBe(before)
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
    expect(proxy.methodCounts().eth_chainId).toBe(1)
    proxy.setMode({ kind: 'pass' })
    expect(await pinged(c.ws, 1_000)).toBe(true)
  })

  it('delay: each frame reaches anvil the given time later', async () => {
    const c = await client()
    proxy.setMode({ kind: 'delay', ms: 300 })
    const started = Date.now()
    const [a, b] = await Promise.all([c.call('eth_chainId'), c.call('eth_blockNumber')])
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(a?.result).toBe('0x7a69')
    expect(b?.result).toMatch(/^0x/)
  })

  it('wrongChain: answers eth_chainId itself and forwards the rest', async () => {
    const c = await client()
    proxy.setMode({ kind: 'wrongChain' })
    expect((await c.call('eth_chainId'))?.result).toBe('0x3e7')
    proxy.setMode({ kind: 'wrongChain', chainId: 5 })
    expect((await c.call('eth_chainId'))?.result).toBe('0x5')
    expect((await c.call('eth_blockNumber'))?.result).toMatch(/^0x/)
  })

  it('close() terminates every socket and is idempotent', async () => {
    const own = await createWsFaultProxy(anvil.url)
    const ws = new WebSocket(own.url)
    ws.on('error', () => {})
    await new Promise((resolve) => ws.once('open', resolve))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    await Promise.all([own.close(), own.close()])
    expect(await closed).toBe(1006)
    expect(own.openConnections()).toBe(0)
  })
})
