// The dApp example (examples/dapp) in headless Chromium: bundled from the package's `browser` entry,
// reading a contract on anvil through fault proxies (HTTP with CORS, and one WebSocket) while one
// endpoint hangs. Run with `npm run build && npm run test:browser` (not part of `vitest run`).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Contract, ContractFactory, JsonRpcProvider, Wallet } from 'ethers'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDapp } from '../../examples/dapp/build.mjs'
import type { DappRead, DappResult } from '../../examples/dapp/main.js'
import { counterAbi, counterBytecode } from '../fixtures/contracts/counter.js'
import { startAnvil, type Anvil } from '../support/anvil.js'
import { waitFor } from '../support/async.js'
import { createFaultProxy, type FaultProxy } from '../support/faultProxy.js'
import { createWsFaultProxy, type WsFaultProxy } from '../support/wsFaultProxy.js'

const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const VALUE = 42n
/** The pool's default attempt timeout: what one request to a hanging endpoint costs without failover or hedging. */
const HANG_BUDGET_MS = 5_000
/** A read must finish well inside that budget: it never waits for the hanging endpoint. */
const READ_DEADLINE_MS = 2_000
const KEEPALIVE_MS = 300

type Pending = { fetches: number; timers: number; intervals: number; sockets: number }
type PageWindow = { __result: DappResult; __dapp: { read(): Promise<DappRead>; destroy(): Promise<void> }; __pending(): Pending }

/**
 * Runs in the page before its own scripts: counts fetches in flight, live timers and WebSockets not yet
 * closed, by wrapping the globals the pool's browser build reads at call time.
 */
function instrument() {
  const timers = new Set<number>()
  const intervals = new Set<number>()
  const sockets = new Set<WebSocket>()
  let fetches = 0
  const w = window as unknown as Record<string, unknown>
  const realFetch = window.fetch.bind(window)
  w.fetch = (...args: Parameters<typeof fetch>) => {
    fetches++
    const p = realFetch(...args)
    p.then(
      () => fetches--,
      () => fetches--,
    )
    return p
  }
  const realSetTimeout = window.setTimeout.bind(window)
  const realClearTimeout = window.clearTimeout.bind(window)
  w.setTimeout = (fn: TimerHandler, ms?: number, ...rest: unknown[]) => {
    const id: number = realSetTimeout(
      (...a: unknown[]) => {
        timers.delete(id)
        if (typeof fn === 'function') (fn as (...x: unknown[]) => void)(...a)
      },
      ms,
      ...rest,
    )
    timers.add(id)
    return id
  }
  w.clearTimeout = (id?: number) => {
    if (id !== undefined) timers.delete(id)
    realClearTimeout(id)
  }
  const realSetInterval = window.setInterval.bind(window)
  const realClearInterval = window.clearInterval.bind(window)
  w.setInterval = (fn: TimerHandler, ms?: number, ...rest: unknown[]) => {
    const id = realSetInterval(fn, ms, ...rest)
    intervals.add(id)
    return id
  }
  w.clearInterval = (id?: number) => {
    if (id !== undefined) intervals.delete(id)
    realClearInterval(id)
  }
  const RealWebSocket = window.WebSocket
  w.WebSocket = class extends RealWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols)
      sockets.add(this)
      this.addEventListener('close', () => sockets.delete(this))
    }
  }
  w.__pending = () => ({ fetches, timers: timers.size, intervals: intervals.size, sockets: sockets.size })
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' }

/** Serves the bundled page's files (and nothing else) on 127.0.0.1. */
async function serve(dir: string): Promise<{ url: string; server: Server }> {
  const files = new Set(readdirSync(dir))
  const server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1) || 'index.html'
    if (req.method !== 'GET' || !files.has(name)) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    res.end(readFileSync(join(dir, name)))
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** Newest modification time under a directory (ms). */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)),
  )
}

let anvil: Anvil
let direct: JsonRpcProvider
let address: string
let proxies: FaultProxy[]
let wsProxy: WsFaultProxy
let outdir: string
let built: Awaited<ReturnType<typeof buildDapp>>
let site: { url: string; server: Server }
let browser: Browser
let page: Page
const consoleErrors: string[] = []

const state = () => page.evaluate(() => (window as unknown as PageWindow).__result)
const pending = () => page.evaluate(() => (window as unknown as PageWindow).__pending())
const read = () => page.evaluate(() => (window as unknown as PageWindow).__dapp.read())

beforeAll(async () => {
  // A stale dist would test yesterday's code: the page must be bundled from what src/ says now.
  const dist = join(ROOT, 'dist/browser.js')
  const distTime = statSync(dist, { throwIfNoEntry: false })?.mtimeMs ?? 0
  if (distTime < newest(join(ROOT, 'src'))) throw new Error('dist/browser.js is missing or older than src/: run `npm run build` first')
  mkdirSync(join(ROOT, '.tmp'), { recursive: true })
  outdir = mkdtempSync(join(ROOT, '.tmp/dapp-'))
  built = await buildDapp({ outdir })

  anvil = await startAnvil()
  direct = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, polling: false, batchMaxCount: 1, cacheTimeout: -1 })
  const deployer = new Wallet(DEV_KEY, direct)
  const deployed = await new ContractFactory(counterAbi, counterBytecode, deployer).deploy(1n)
  await deployed.waitForDeployment()
  address = await deployed.getAddress()
  const set = (await new Contract(address, counterAbi, deployer).getFunction('set')(VALUE)) as { wait(): Promise<unknown> }
  await set.wait()

  proxies = await Promise.all([0, 1, 2].map(() => createFaultProxy(anvil.url, { cors: true })))
  // Dead from the start: the page must not wait for it.
  proxies[1]!.setMode({ kind: 'hang' })
  wsProxy = await createWsFaultProxy(anvil.url)
  site = await serve(outdir)

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking'],
  })
  page = await browser.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
  await page.addInitScript(instrument)
})

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((ok) => (site ? site.server.close(() => ok()) : ok()))
  site?.server.closeAllConnections()
  await Promise.all([...(proxies ?? []).map((p) => p.close()), wsProxy?.close()])
  direct?.destroy()
  await anvil?.stop()
  if (outdir) rmSync(outdir, { recursive: true, force: true })
})

describe('the dApp example in Chromium', () => {
  it('bundles from the package browser entry, with no Node built-ins and no warnings', () => {
    expect(built.warnings).toEqual([])
    expect(built.inputs).toContain('dist/browser.js')
    // Resolved as published: nothing from src/ (the repo's tsconfig paths), no ws, no node: imports.
    expect(built.inputs.filter((f) => f.startsWith('src/') || f.includes('node_modules/ws/') || f.startsWith('node:'))).toEqual([])
  })

  it('reads the contract while one endpoint hangs', async () => {
    const rpc = [...proxies.map((p) => `${p.url}/v3/SECRETKEY`), wsProxy.url].join(',')
    await page.goto(`${site.url}/index.html?rpc=${encodeURIComponent(rpc)}&address=${address}&keepalive=${KEEPALIVE_MS}`)
    await page.waitForFunction(() => (window as unknown as PageWindow).__result.reads.length > 0, undefined, { timeout: 10_000 })
    const r = await state()
    expect(r.errors).toEqual([])
    expect(r.reads[0]).toMatchObject({ ok: true, value: VALUE.toString() })
    expect(r.reads[0]!.ms).toBeLessThan(READ_DEADLINE_MS)
    expect(READ_DEADLINE_MS).toBeLessThan(HANG_BUDGET_MS / 2)
    expect(r.status).toBe('ready')
    // The hanging endpoint was asked (its handshake never answered), and never served.
    expect(proxies[1]!.count()).toBeGreaterThan(0)
    // The page shows the pool's table, by redacted ids: no path, so no key.
    expect(r.endpoints).toHaveLength(4)
    expect(JSON.stringify(r.endpoints)).not.toContain('SECRETKEY')
    expect(await page.textContent('#endpoints')).not.toContain('SECRETKEY')
    expect(await page.textContent('#value')).toBe(VALUE.toString())
  })

  it('delivers consecutive new heads over the browser WebSocket, with its request keepalive', async () => {
    await page.waitForFunction(() => (window as unknown as PageWindow).__result.headSource?.startsWith('ws://') === true, undefined, { timeout: 10_000 })
    const keepalives = wsProxy.methodCounts().eth_chainId ?? 0
    const before = (await state()).heads.length
    for (let i = 1; i <= 3; i++) {
      await anvil.mine(1)
      await page.waitForFunction((n) => (window as unknown as PageWindow).__result.heads.length >= n, before + i, { timeout: 5_000 })
    }
    const heads = (await state()).heads.map(BigInt)
    const fresh = heads.slice(before)
    expect(fresh).toHaveLength(3)
    expect(fresh[1]! - fresh[0]!).toBe(1n)
    expect(fresh[2]! - fresh[1]!).toBe(1n)
    expect(wsProxy.methodCounts().eth_subscribe ?? 0).toBeGreaterThan(0)
    // Browsers cannot send protocol pings: the keepalive is a JSON-RPC request on the same socket.
    await waitFor(() => (wsProxy.methodCounts().eth_chainId ?? 0) >= keepalives + 2, 'two keepalive requests on the WebSocket', 5_000)
    expect(wsProxy.pings()).toBe(0)
    expect(wsProxy.connections()).toBe(1)
  })

  it('keeps reading when the endpoint serving the reads starts hanging: hedged, then failed over', async () => {
    proxies[1]!.setMode({ kind: 'pass' })
    await page.waitForFunction(
      () => {
        const rows = (window as unknown as PageWindow).__result.endpoints
        return rows.length === 4 && rows.every((row) => row.status === 'up')
      },
      undefined,
      { timeout: 10_000 },
    )
    // Sequential reads go to the endpoint the balancer prefers (the fastest when none is busy): find it,
    // and make that one hang, so the next read is sure to meet the hang.
    const served = async () => new Map((await state()).endpoints.map((row) => [String(row.endpoint), Number(row.served)]))
    const before = await served()
    for (let i = 0; i < 5; i++) expect(await read()).toMatchObject({ ok: true, value: VALUE.toString() })
    const after = await served()
    const gained = (id: string) => (after.get(id) ?? 0) - (before.get(id) ?? 0)
    const favourite = [...after.keys()].reduce((best, id) => (gained(id) > gained(best) ? id : best))
    const port = Number(new URL(favourite.replace(/#\d+$/, '')).port)
    const http = proxies.find((p) => p.port === port)
    const overWs = wsProxy.port === port
    expect(overWs || http !== undefined, `the favourite ${favourite} is one of ours`).toBe(true)
    const handedReads = () => (overWs ? wsProxy.methodCounts() : http!.methodCounts()).eth_call ?? 0
    const handed = handedReads()
    // WebSocket: `silent` is its hang (open socket, no answers); HTTP: accepted requests never answered.
    if (overWs) wsProxy.setMode({ kind: 'silent' })
    else http!.setMode({ kind: 'hang' })
    try {
      const reads: DappRead[] = []
      for (let i = 0; i < 5; i++) reads.push(await read())
      for (const r of reads) expect(r).toMatchObject({ ok: true, value: VALUE.toString() })
      // The first read meets the hang and is hedged to another endpoint after the favourite's p95.
      expect(reads[0]!.ms).toBeLessThan(READ_DEADLINE_MS)
      // Hedges are budgeted (10 % of reads, one banked): once the budget is spent, one read waits out
      // the attempt timeout and fails over; that failure steers the next reads elsewhere. Never the
      // request's own 10 s deadline, and never more than one such read.
      const slow = reads.filter((r) => r.ms >= READ_DEADLINE_MS)
      expect(slow.length).toBeLessThanOrEqual(1)
      for (const r of slow) expect(r.ms).toBeLessThan(HANG_BUDGET_MS + READ_DEADLINE_MS)
      // The hanging endpoint really was handed a read, which failover or a hedge then answered elsewhere.
      expect(handedReads()).toBeGreaterThan(handed)
    } finally {
      if (overWs) wsProxy.setMode({ kind: 'pass' })
      else http!.setMode({ kind: 'pass' })
    }
  })

  it('leaves nothing pending after pool.destroy()', async () => {
    expect((await pending()).sockets).toBeGreaterThan(0)
    await page.evaluate(() => (window as unknown as PageWindow).__dapp.destroy())
    // Sockets close with a handshake, and aborted fetches settle a task later: poll, briefly.
    await page.waitForFunction(
      () => {
        const p = (window as unknown as PageWindow).__pending()
        return p.fetches === 0 && p.timers === 0 && p.intervals === 0 && p.sockets === 0
      },
      undefined,
      { timeout: 5_000 },
    ).catch(async () => expect.fail(`still pending after destroy: ${JSON.stringify(await pending())}`))
    expect((await state()).status).toBe('destroyed')
    await waitFor(() => wsProxy.openConnections() === 0, 'the WebSocket proxy to see the page disconnect', 5_000)
  })

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([])
  })
})

describe('fault proxy CORS', () => {
  it('is opt-in: without `cors` there are no CORS headers and OPTIONS is not answered as a preflight', async () => {
    const plain = await createFaultProxy(anvil.url)
    try {
      const post = await fetch(plain.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' })
      expect(post.headers.get('access-control-allow-origin')).toBeNull()
      await post.text()
      const preflight = await fetch(plain.url, { method: 'OPTIONS' })
      expect(preflight.status).not.toBe(204)
      await preflight.text()
      const withCors = await fetch(proxies[2]!.url, { method: 'OPTIONS', headers: { 'access-control-request-headers': 'content-type' } })
      expect(withCors.status).toBe(204)
      expect(withCors.headers.get('access-control-allow-origin')).toBe('*')
      expect(withCors.headers.get('access-control-allow-headers')).toBe('content-type')
    } finally {
      await plain.close()
    }
  })
})
