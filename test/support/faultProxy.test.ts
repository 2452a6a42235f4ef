import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest'
import { startAnvil } from './anvil.js'
import type { Anvil } from './anvil.js'
import { createFaultProxy } from './faultProxy.js'
import type { FaultProxy } from './faultProxy.js'
import { DEV_ACCOUNT } from './devAccounts.js'

type Reply = { status: number; headers: Headers; text: string }
type RpcAnswer = { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number; message: string } }

const call = (method: string, params: unknown[] = [], id: unknown = 1) => ({ jsonrpc: '2.0', id, method, params })

async function post(url: string, body: unknown, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

async function result<T = string>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const r = await post(url, call(method, params))
  const body = JSON.parse(r.text) as RpcAnswer
  if (body.error) throw new Error(body.error.message)
  return body.result as T
}

const hex = (n: bigint) => `0x${n.toString(16)}`
const OTHER = `0x${'22'.repeat(20)}`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(cond: () => boolean, timeoutMs = 2_000) {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}

describe('createFaultProxy', () => {
  let anvil: Anvil
  let proxy: FaultProxy
  const extra: FaultProxy[] = []

  beforeAll(async () => {
    anvil = await startAnvil()
    proxy = await createFaultProxy(anvil.url)
  })
  afterAll(async () => {
    await Promise.all([proxy?.close(), ...extra.map((p) => p.close())])
    await anvil?.stop()
  })
  beforeEach(() => {
    proxy.setMode({ kind: 'pass' })
    proxy.resetCounts()
  })

  it('passes through, accepts any path, and counts requests, methods and headers', async () => {
    expect(proxy.mode()).toEqual({ kind: 'pass' })
    expect(await result(`${proxy.url}/v3/SECRETKEY`, 'eth_chainId')).toBe('0x7a69')
    const batch = await post(proxy.url, [call('eth_blockNumber', [], 1), call('eth_blockNumber', [], 2), call('eth_chainId', [], 3)], {
      headers: { 'x-test': 'hello', authorization: 'Bearer abc' },
    })
    const answers = JSON.parse(batch.text) as RpcAnswer[]
    expect(answers.map((a) => a.id)).toEqual([1, 2, 3])
    expect(proxy.count()).toBe(2)
    expect(proxy.methodCounts()).toEqual({ eth_chainId: 2, eth_blockNumber: 2 })
    expect(proxy.lastHeaders()['x-test']).toBe('hello')
    expect(proxy.lastHeaders()['authorization']).toBe('Bearer abc')
    proxy.resetCounts()
    expect(proxy.count()).toBe(0)
    expect(proxy.methodCounts()).toEqual({})
  })

  it('forwards invalid JSON untouched to the target', async () => {
    const r = await post(proxy.url, 'this is {not json')
    const body = JSON.parse(r.text) as RpcAnswer
    expect(body.error?.code).toBeLessThan(-32000)
    expect(proxy.count()).toBe(1)
  })

  it('delay forwards after the given time', async () => {
    proxy.setMode({ kind: 'delay', ms: 250 })
    const started = Date.now()
    expect(await result(proxy.url, 'eth_chainId')).toBe('0x7a69')
    expect(Date.now() - started).toBeGreaterThanOrEqual(240)
  })

  it('survives a client aborting a delayed request', async () => {
    proxy.setMode({ kind: 'delay', ms: 200 })
    await expect(post(proxy.url, call('eth_chainId'), { timeoutMs: 50 })).rejects.toThrow()
    await sleep(250)
    proxy.setMode({ kind: 'pass' })
    expect(await result(proxy.url, 'eth_chainId')).toBe('0x7a69')
    expect(proxy.count()).toBe(2)
  })

  it('hang accepts and never answers', async () => {
    proxy.setMode({ kind: 'hang' })
    await expect(post(proxy.url, call('eth_chainId'), { timeoutMs: 300 })).rejects.toThrow(/timeout|aborted/i)
    expect(proxy.count()).toBe(1)
    expect(proxy.methodCounts()).toEqual({ eth_chainId: 1 })
  })

  it('reset destroys the socket without a response', async () => {
    proxy.setMode({ kind: 'reset' })
    await expect(post(proxy.url, call('eth_chainId'), { timeoutMs: 2_000 })).rejects.toThrow(/fetch failed/)
    expect(proxy.count()).toBe(1)
  })

  it('http500 / http401 answer with those statuses', async () => {
    proxy.setMode({ kind: 'http500' })
    expect((await post(proxy.url, call('eth_chainId'))).status).toBe(500)
    proxy.setMode({ kind: 'http401' })
    expect((await post(proxy.url, call('eth_chainId'))).status).toBe(401)
    expect(proxy.count()).toBe(2)
  })

  it('http429 sets Retry-After only when asked', async () => {
    proxy.setMode({ kind: 'http429', retryAfter: 3 })
    const limited = await post(proxy.url, call('eth_chainId'))
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('3')
    expect(limited.text).toMatch(/rate limit/i)
    proxy.setMode({ kind: 'http429' })
    const bare = await post(proxy.url, call('eth_chainId'))
    expect(bare.status).toBe(429)
    expect(bare.headers.get('retry-after')).toBeNull()
  })

  it('garbage answers 200 with a non-JSON body', async () => {
    proxy.setMode({ kind: 'garbage' })
    const r = await post(proxy.url, call('eth_chainId'))
    expect(r.status).toBe(200)
    expect(r.text.startsWith('<html>')).toBe(true)
    expect(() => JSON.parse(r.text)).toThrow()
  })

  it('rpcError answers each request id with a JSON-RPC error', async () => {
    proxy.setMode({ kind: 'rpcError' })
    const single = JSON.parse((await post(proxy.url, call('eth_chainId', [], 42))).text) as RpcAnswer
    expect(single).toEqual({ jsonrpc: '2.0', id: 42, error: { code: -32000, message: 'proxy injected error' } })
    proxy.setMode({ kind: 'rpcError', code: -32603, message: 'boom' })
    const r = await post(proxy.url, [call('eth_chainId', [], 7), call('eth_blockNumber', [], 'abc')])
    expect(r.status).toBe(200)
    const batch = JSON.parse(r.text) as RpcAnswer[]
    expect(batch).toEqual([
      { jsonrpc: '2.0', id: 7, error: { code: -32603, message: 'boom' } },
      { jsonrpc: '2.0', id: 'abc', error: { code: -32603, message: 'boom' } },
    ])
  })

  it('stale freezes the head and block tags while the real chain advances', async () => {
    proxy.setMode({ kind: 'stale' })
    // The frozen height is fetched asynchronously at setMode; a request through the proxy
    // awaits it, so the chain can only move after this line.
    const frozen = Number(await result(proxy.url, 'eth_blockNumber'))
    const realBefore = Number(await anvil.rpc<string>('eth_blockNumber'))
    expect(frozen).toBe(realBefore)
    await anvil.mine(3)
    expect(Number(await anvil.rpc<string>('eth_blockNumber'))).toBe(frozen + 3)
    expect(Number(await result(proxy.url, 'eth_blockNumber'))).toBe(frozen)
    const block = await result<{ number: string }>(proxy.url, 'eth_getBlockByNumber', ['latest', false])
    expect(Number(block.number)).toBe(frozen)
    const r = await post(proxy.url, [call('eth_getBlockByNumber', ['finalized', false], 'b'), call('eth_blockNumber', [], 'a')])
    const batch = JSON.parse(r.text) as RpcAnswer[]
    expect(batch.map((a) => a.id)).toEqual(['b', 'a'])
    expect(Number((batch[0]?.result as { number: string }).number)).toBe(frozen)
    expect(Number(batch[1]?.result)).toBe(frozen)
    proxy.setMode({ kind: 'pass' })
    expect(Number(await result(proxy.url, 'eth_blockNumber'))).toBe(frozen + 3)
  })

  it('stale answers reads of blocks past its head as geth does: "header not found", null, a refused log range', async () => {
    proxy.setMode({ kind: 'stale' })
    const frozen = BigInt(await result(proxy.url, 'eth_blockNumber'))
    const tx = await anvil.transact({ from: DEV_ACCOUNT, to: OTHER, value: '0x1' })
    await anvil.mine(2)
    const mined = BigInt(tx.blockNumber)
    expect(mined).toBe(frozen + 1n)
    const [at, past] = [hex(frozen), hex(mined)]
    const reply = async (method: string, params: unknown[]) => JSON.parse((await post(proxy.url, call(method, params))).text) as RpcAnswer
    const HEADER_NOT_FOUND = { code: -32000, message: 'header not found' }

    // State reads pinned past the head are refused, as numbers and as EIP-1898 objects; at the head they pass.
    const reads: Array<[string, (block: unknown) => unknown[]]> = [
      ['eth_getBalance', (b) => [DEV_ACCOUNT, b]],
      ['eth_getCode', (b) => [DEV_ACCOUNT, b]],
      ['eth_getStorageAt', (b) => [DEV_ACCOUNT, '0x0', b]],
      ['eth_getTransactionCount', (b) => [DEV_ACCOUNT, b]],
      ['eth_call', (b) => [{ to: OTHER, data: '0x' }, b]],
      ['eth_estimateGas', (b) => [{ from: DEV_ACCOUNT, to: OTHER }, b]],
      ['eth_createAccessList', (b) => [{ from: DEV_ACCOUNT, to: OTHER }, b]],
      ['eth_getProof', (b) => [DEV_ACCOUNT, [], b]],
    ]
    for (const [method, params] of reads) {
      expect((await reply(method, params(past))).error, method).toEqual(HEADER_NOT_FOUND)
      expect((await reply(method, params({ blockNumber: past }))).error, `${method} (EIP-1898)`).toEqual(HEADER_NOT_FOUND)
      expect((await reply(method, params(at))).error, `${method} at the head`).toBeUndefined()
    }
    expect((await reply('eth_getBalance', [DEV_ACCOUNT, { blockHash: tx.blockHash }])).error).toEqual({ code: -32000, message: 'header for hash not found' })
    // Before the freeze the dev account had one transaction fewer: the frozen node answers for its own head.
    const nonceNow = BigInt(await anvil.rpc<string>('eth_getTransactionCount', [DEV_ACCOUNT, 'latest']))
    expect(BigInt(await result(proxy.url, 'eth_getTransactionCount', [DEV_ACCOUNT, 'latest']))).toBe(nonceNow - 1n)

    // Block lookups by number answer null past the head.
    expect((await reply('eth_getBlockByNumber', [past, false])).result).toBeNull()
    expect((await reply('eth_getBlockReceipts', [past])).result).toBeNull()
    expect((await reply('eth_getBlockTransactionCountByNumber', [past])).result).toBeNull()
    expect(((await reply('eth_getBlockByNumber', [at, false])).result as { number: string }).number).toBe(at)

    // What was mined after the freeze is unknown to it.
    expect((await reply('eth_getTransactionReceipt', [tx.transactionHash])).result).toBeNull()
    expect((await reply('eth_getTransactionByHash', [tx.transactionHash])).result).toBeNull()
    expect((await reply('eth_getBlockByHash', [tx.blockHash, false])).result).toBeNull()
    expect((await reply('eth_getLogs', [{ blockHash: tx.blockHash }])).error).toEqual({ code: -32000, message: 'unknown block' })

    // Log ranges: geth refuses one reaching past its head (-32602), and one starting past it.
    expect((await reply('eth_getLogs', [{ fromBlock: at, toBlock: past }])).error).toEqual({ code: -32602, message: 'block range extends beyond current head block' })
    expect((await reply('eth_getLogs', [{ fromBlock: past, toBlock: 'latest' }])).error).toEqual({ code: -32602, message: 'invalid block range params' })
    expect((await reply('eth_getLogs', [{ fromBlock: '0x0', toBlock: at }])).result).toEqual([])

    // Batches mix local answers and forwarded ones, in request order.
    const r = await post(proxy.url, [call('eth_getBlockByNumber', [past, false], 'p'), call('eth_getBalance', [DEV_ACCOUNT, past], 'b'), call('eth_chainId', [], 'c')])
    const batch = JSON.parse(r.text) as RpcAnswer[]
    expect(batch.map((a) => [a.id, 'error' in a ? a.error : a.result])).toEqual([['p', null], ['b', HEADER_NOT_FOUND], ['c', '0x7a69']])

    // Back to pass: the real node answers.
    proxy.setMode({ kind: 'pass' })
    expect((await reply('eth_getTransactionReceipt', [tx.transactionHash])).result).not.toBeNull()
    expect((await reply('eth_getBalance', [DEV_ACCOUNT, past])).error).toBeUndefined()
  })

  it('wrongChain lies about eth_chainId only', async () => {
    proxy.setMode({ kind: 'wrongChain' })
    expect(await result(proxy.url, 'eth_chainId')).toBe('0x3e7')
    proxy.setMode({ kind: 'wrongChain', chainId: 5 })
    expect(await result(proxy.url, 'eth_chainId')).toBe('0x5')
    expect(await result(proxy.url, 'eth_blockNumber')).toBe(await anvil.rpc<string>('eth_blockNumber'))
  })

  it('lie reports a head ahead of the real one', async () => {
    const real = Number(await anvil.rpc<string>('eth_blockNumber'))
    proxy.setMode({ kind: 'lie' })
    expect(Number(await result(proxy.url, 'eth_blockNumber'))).toBe(real + 1000)
    proxy.setMode({ kind: 'lie', ahead: 5 })
    const r = await post(proxy.url, [call('eth_chainId', [], 1), call('eth_blockNumber', [], 2)])
    const batch = JSON.parse(r.text) as RpcAnswer[]
    expect(batch).toEqual([
      { jsonrpc: '2.0', id: 1, result: '0x7a69' },
      { jsonrpc: '2.0', id: 2, result: `0x${(real + 5).toString(16)}` },
    ])
  })

  it('lie with methods alters those methods\' quantities and leaves the head honest', async () => {
    const real = await anvil.rpc<string>('eth_blockNumber')
    const addr = `0x${'11'.repeat(20)}`
    const balance = BigInt(await anvil.rpc<string>('eth_getBalance', [addr, 'latest']))
    proxy.setMode({ kind: 'lie', ahead: 7, methods: ['eth_getBalance'] })
    expect(BigInt(await result(proxy.url, 'eth_getBalance', [addr, 'latest']))).toBe(balance + 7n)
    expect(await result(proxy.url, 'eth_blockNumber')).toBe(real)
  })

  it('quota answers 429 beyond its token bucket and records arrivals', async () => {
    proxy.setMode({ kind: 'quota', perSecond: 1, burst: 2 })
    const replies = await Promise.all([0, 1, 2].map(() => post(proxy.url, call('eth_chainId'))))
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 429])
    expect(proxy.throttled()).toBe(1)
    expect(proxy.arrivals()).toHaveLength(3)
    proxy.resetCounts()
    expect([proxy.throttled(), proxy.arrivals().length]).toEqual([0, 0])
  })

  it('flap alternates pass and down by wall clock', async () => {
    // Probes aimed at the middle of each 300 ms window.
    const probe = async () => {
      try {
        return (await post(proxy.url, call('eth_chainId'), { timeoutMs: 1_000 })).status === 200 ? 'up' : 'down'
      } catch {
        return 'down'
      }
    }
    proxy.resetCounts()
    const setAt = Date.now()
    proxy.setMode({ kind: 'flap', upMs: 300, downMs: 300 })
    const seen: string[] = []
    for (const at of [150, 450, 750, 1050]) {
      await sleep(at - (Date.now() - setAt))
      seen.push(await probe())
    }
    // The proxy decides by when a probe arrived (its own stamp, in this process): a probe that a
    // loaded machine delays into the next window meets that window's mode. Within 3 ms of a window's
    // edge either mode is right (the proxy's own start may differ from setAt by a millisecond).
    const expected = proxy.arrivals().map((t) => {
      const since = t - setAt
      if (Math.abs(since - Math.round(since / 300) * 300) <= 3) return undefined
      return Math.floor(since / 300) % 2 === 0 ? 'up' : 'down'
    })
    expect(expected).toHaveLength(4)
    expect(seen.filter((_, i) => expected[i] !== undefined)).toEqual(expected.filter((e) => e !== undefined))
    expect(seen).toContain('up')
    expect(seen).toContain('down')

    proxy.setMode({ kind: 'flap', upMs: 0, downMs: 1_000, down: { kind: 'http500' } })
    expect((await post(proxy.url, call('eth_chainId'))).status).toBe(500)
  })

  it('close() with a hanging request resolves and leaves no open connections', async () => {
    const p = await createFaultProxy(anvil.url, { mode: { kind: 'hang' } })
    extra.push(p)
    expect(p.mode()).toEqual({ kind: 'hang' })
    const pending = post(p.url, call('eth_chainId'), { timeoutMs: 10_000 })
    pending.catch(() => {})
    await until(() => p.count() === 1 && p.openConnections() === 1)
    const started = Date.now()
    await p.close()
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(p.openConnections()).toBe(0)
    await expect(pending).rejects.toThrow(/fetch failed/)
    await p.close()
  })
})
