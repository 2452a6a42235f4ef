import { createServer } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { staleAnswer } from './staleNode.js'

export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' } // accepted, never answered; the socket stays open until close()
  | { kind: 'reset' } // socket destroyed without a response
  | { kind: 'http500' }
  | { kind: 'http429'; retryAfter?: number } // seconds, sent as Retry-After
  | { kind: 'http401' }
  | { kind: 'garbage' } // 200 with an HTML body
  | { kind: 'rpcError'; code?: number; message?: string } // per id; default -32000 'proxy injected error'
  | { kind: 'flap'; upMs: number; downMs: number; down?: FaultMode } // wall clock from setMode; down defaults to reset
  // Head frozen at setMode, answering as geth does at that height (see staleNode.ts): eth_blockNumber
  // and block tags answer it; reads pinned to a later block are refused ("header not found") or `null`,
  // log ranges past it refused; what was mined after it is unknown (`null`)
  | { kind: 'stale' }
  | { kind: 'wrongChain'; chainId?: number } // eth_chainId only; default 999
  // Hex-quantity results of `methods` (default eth_blockNumber) = real value + ahead (default 1000);
  // other methods pass. Two liars with different `ahead`s tell different lies.
  | { kind: 'lie'; ahead?: number; methods?: readonly string[] }
  // eth_getLogs over more than maxBlocks numbered blocks answered with a JSON-RPC error (default -32005
  // 'query returned more than 10000 results'); narrower ranges, by-hash queries and other methods pass
  | { kind: 'logRange'; maxBlocks: number; code?: number; message?: string }
  // A provider's quota: a token bucket (from setMode) in front of pass; a request without a token gets 429.
  | { kind: 'quota'; perSecond: number; burst: number }

export type FaultProxy = {
  /** http://127.0.0.1:PORT; any path is accepted and ignored (e.g. /v3/SECRETKEY). */
  url: string
  port: number
  setMode(mode: FaultMode): void
  mode(): FaultMode
  /** Requests received (HTTP requests, counted before the fault applies). */
  count(): number
  /** Arrival times (Date.now()) of the requests counted by count(). */
  arrivals(): number[]
  /** Requests answered 429 by a `quota` mode. */
  throttled(): number
  /** Per JSON-RPC method counts (batch entries each counted). */
  methodCounts(): Record<string, number>
  /** Headers of the last request received (lower-cased names). */
  lastHeaders(): Record<string, string | string[] | undefined>
  /** Zeroes count() and methodCounts(); lastHeaders() is kept. */
  resetCounts(): void
  /** Connections currently open (to assert clients closed them). */
  openConnections(): number
  /** Connections closed so far. Node's fetch replaces an aborted connection with a fresh idle one at once, so a drop in openConnections() alone cannot show an abort. */
  closedConnections(): number
  /** Destroys every socket (hanging ones included) and closes the server. Idempotent. */
  close(): Promise<void>
}

type RpcEntry = { id?: unknown; method?: unknown; params?: unknown }
type Upstream = { status: number; contentType: string; body: string }
/** How one request entry is served: answered by the proxy, or forwarded (maybe rewritten). */
type Plan =
  | { local: true; entry: RpcEntry; result: unknown }
  | { local: true; entry: RpcEntry; error: { code: number; message: string } }
  | { local: false; entry: RpcEntry; post?: (result: unknown) => unknown }

const toHex = (n: number | bigint) => `0x${n.toString(16)}`

function isEntry(x: unknown): x is RpcEntry {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'))
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', done)
    // An aborted upload is served with what arrived; send() then notices the dead socket.
    req.on('close', done)
  })
}

// Permissive CORS for pages on any origin (the browser test's page is served from another port).
// Retry-After is exposed so a page's pool can honour it, as it does in Node.
const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'retry-after',
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  if (res.destroyed || res.writableEnded) return
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(body)
}

export type FaultProxyOptions = {
  mode?: FaultMode
  /**
   * Answers CORS preflights (`OPTIONS`, 204, not counted and never faulted: they are the browser's
   * plumbing, not JSON-RPC) and adds `Access-Control-Allow-Origin: *` to every response, faulted or not.
   * @default false
   */
  cors?: boolean
  /**
   * Called with every JSON-RPC entry as it arrives (before the fault applies, params as the client
   * sent them), for harnesses that must know who was asked what and when. @default undefined
   */
  onEntry?: (entry: { at: number; method: string; params: unknown }) => void
}

export async function createFaultProxy(target: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  let current: FaultMode = { kind: 'pass' }
  let setAt = Date.now()
  // A promise because setMode is synchronous but the head must come from the target.
  let frozenHead: Promise<bigint> | undefined
  let requests = 0
  let arrivals: number[] = []
  let throttled = 0
  let bucket = { tokens: 0, at: 0 }
  let methods: Record<string, number> = {}
  let headers: IncomingHttpHeaders = {}
  let closing: Promise<void> | undefined
  const sockets = new Set<Socket>()
  let closed = 0
  const inflight = new Set<AbortController>()

  const forward = async (body: string, signal: AbortSignal): Promise<Upstream> => {
    const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal })
    const contentType = res.headers.get('content-type') ?? 'application/json'
    return { status: res.status, contentType, body: await res.text() }
  }

  const fetchHead = async (): Promise<bigint> => {
    const req = { jsonrpc: '2.0', id: 'fault-proxy-head', method: 'eth_blockNumber', params: [] }
    const up = await forward(JSON.stringify(req), AbortSignal.timeout(5_000))
    const parsed = JSON.parse(up.body) as { result?: string }
    if (typeof parsed.result !== 'string') throw new Error(`faultProxy: cannot read head from target: ${up.body}`)
    return BigInt(parsed.result)
  }

  /** The number of the block with `hash` on the target's chain: a stale node knows none mined after its head. */
  const lookupBlock = async (hash: string): Promise<bigint | undefined> => {
    const req = { jsonrpc: '2.0', id: 'fault-proxy-lookup', method: 'eth_getBlockByHash', params: [hash, false] }
    const up = await forward(JSON.stringify(req), AbortSignal.timeout(5_000))
    const number = (JSON.parse(up.body) as { result?: { number?: string } | null }).result?.number
    return typeof number === 'string' ? BigInt(number) : undefined
  }

  const setMode = (mode: FaultMode) => {
    current = mode
    setAt = Date.now()
    frozenHead = undefined
    if (mode.kind === 'quota') bucket = { tokens: mode.burst, at: setAt }
    const needsHead = mode.kind === 'stale' || (mode.kind === 'flap' && mode.down?.kind === 'stale')
    if (needsHead) {
      frozenHead = fetchHead()
      // Only requests made in stale mode care; without this a failed fetch is an unhandled rejection.
      frozenHead.catch(() => {})
    }
  }

  /** Flap is resolved to a concrete mode per request, by wall clock since setMode. */
  const effective = (mode: FaultMode, now: number): FaultMode => {
    if (mode.kind !== 'flap') return mode
    const period = mode.upMs + mode.downMs
    const phase = period > 0 ? (now - setAt) % period : 0
    if (phase < mode.upMs) return { kind: 'pass' }
    const down = mode.down ?? { kind: 'reset' }
    return down.kind === 'flap' ? { kind: 'reset' } : down
  }

  const planFor = async (mode: FaultMode, head: Promise<bigint> | undefined, entry: RpcEntry): Promise<Plan> => {
    if (mode.kind === 'stale') {
      if (!head) throw new Error('faultProxy: stale mode without a frozen head')
      const answer = await staleAnswer(String(entry.method), entry.params, await head, lookupBlock)
      if (answer.kind === 'result') return { local: true, entry, result: answer.result }
      if (answer.kind === 'error') return { local: true, entry, error: answer.error }
      return { local: false, entry: { ...entry, params: answer.params }, post: answer.post }
    }
    if (mode.kind === 'wrongChain' && entry.method === 'eth_chainId') {
      return { local: true, entry, result: toHex(mode.chainId ?? 999) }
    }
    if (mode.kind === 'logRange' && entry.method === 'eth_getLogs' && Array.isArray(entry.params) && isEntry(entry.params[0])) {
      const { fromBlock, toBlock } = entry.params[0] as { fromBlock?: unknown; toBlock?: unknown }
      const quantity = (x: unknown) => (typeof x === 'string' && /^0x[0-9a-fA-F]+$/.test(x) ? BigInt(x) : undefined)
      const from = quantity(fromBlock)
      const to = quantity(toBlock)
      if (from !== undefined && to !== undefined && to - from + 1n > BigInt(mode.maxBlocks)) {
        return { local: true, entry, error: { code: mode.code ?? -32005, message: mode.message ?? 'query returned more than 10000 results' } }
      }
    }
    if (mode.kind === 'lie' && (mode.methods ?? ['eth_blockNumber']).includes(entry.method as string)) {
      const ahead = BigInt(mode.ahead ?? 1000)
      return { local: false, entry, post: (r) => (typeof r === 'string' && /^0x[0-9a-fA-F]+$/.test(r) ? toHex(BigInt(r) + ahead) : r) }
    }
    return { local: false, entry }
  }

  /** stale / wrongChain / lie: answer some entries locally, forward the rest, stitch results in request order. */
  const rewrite = async (
    mode: FaultMode,
    head: Promise<bigint> | undefined,
    parsed: unknown,
    signal: AbortSignal,
  ): Promise<Upstream> => {
    const batch = Array.isArray(parsed)
    const entries = (batch ? parsed : [parsed]) as unknown[]
    if (entries.length === 0 || !entries.every(isEntry)) return forward(JSON.stringify(parsed), signal)
    const plans = await Promise.all(entries.map((e) => planFor(mode, head, e)))
    const remote = plans.filter((p) => !p.local)
    const byId = new Map<string, unknown>()
    if (remote.length > 0) {
      const outgoing = remote.map((p) => p.entry)
      const up = await forward(JSON.stringify(batch ? outgoing : outgoing[0]), signal)
      let answers: unknown
      try {
        answers = JSON.parse(up.body)
      } catch {
        return up
      }
      // Upstream transport or request-level errors are not ours to stitch: pass them through.
      if (up.status !== 200 || (batch && !Array.isArray(answers)) || (!batch && !isEntry(answers))) return up
      for (const a of (batch ? answers : [answers]) as unknown[]) {
        if (isEntry(a)) byId.set(JSON.stringify(a.id), a)
      }
    }
    const out = plans.flatMap((p): unknown[] => {
      const key = JSON.stringify(p.entry.id)
      if (p.local && 'error' in p) return p.entry.id === undefined ? [] : [{ jsonrpc: '2.0', id: p.entry.id, error: p.error }]
      if (p.local) return p.entry.id === undefined ? [] : [{ jsonrpc: '2.0', id: p.entry.id, result: p.result }]
      const a = byId.get(key)
      if (!isEntry(a)) return []
      return [p.post && 'result' in a ? { ...a, result: p.post(a.result) } : a]
    })
    return { status: 200, contentType: 'application/json', body: JSON.stringify(batch ? out : out[0] ?? null) }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests++
    headers = { ...req.headers }
    const arrivedAt = Date.now()
    arrivals.push(arrivedAt)
    // Snapshot the mode (and its frozen head) now: setMode may run while the body streams in.
    const declared = current
    const head = frozenHead
    const body = await readBody(req)
    let parsed: unknown
    let valid = true
    try {
      parsed = JSON.parse(body)
    } catch {
      valid = false
    }
    const entries = valid ? ((Array.isArray(parsed) ? parsed : [parsed]) as unknown[]) : []
    for (const e of entries) {
      const m = isEntry(e) && typeof e.method === 'string' ? e.method : '(invalid)'
      methods[m] = (methods[m] ?? 0) + 1
      opts.onEntry?.({ at: arrivedAt, method: m, params: isEntry(e) ? e.params : undefined })
    }

    const mode = effective(declared, arrivedAt)
    switch (mode.kind) {
      case 'hang':
        return
      case 'reset':
        req.socket.destroy()
        return
      case 'http500':
        return send(res, 500, 'Internal Server Error', { 'content-type': 'text/plain' })
      case 'http401':
        return send(res, 401, JSON.stringify({ error: 'unauthorized' }))
      case 'http429': {
        const extra = mode.retryAfter === undefined ? undefined : { 'retry-after': String(mode.retryAfter) }
        const error = { code: 429, message: 'Too Many Requests: rate limit exceeded' }
        return send(res, 429, JSON.stringify({ jsonrpc: '2.0', id: null, error }), extra)
      }
      case 'quota': {
        // Bodies stream in concurrently: an earlier arrival may be judged after a later one.
        bucket.tokens = Math.min(mode.burst, bucket.tokens + (Math.max(0, arrivedAt - bucket.at) * mode.perSecond) / 1000)
        bucket.at = Math.max(bucket.at, arrivedAt)
        if (bucket.tokens >= 1) {
          bucket.tokens--
          break
        }
        throttled++
        const error = { code: 429, message: 'Too Many Requests: quota exceeded' }
        return send(res, 429, JSON.stringify({ jsonrpc: '2.0', id: null, error }))
      }
      case 'garbage':
        return send(res, 200, '<html>oops</html>', { 'content-type': 'text/html' })
      case 'rpcError': {
        const error = { code: mode.code ?? -32000, message: mode.message ?? 'proxy injected error' }
        const one = (e: unknown) => ({ jsonrpc: '2.0', id: isEntry(e) ? (e.id ?? null) : null, error })
        const out = valid && Array.isArray(parsed) ? parsed.map(one) : one(valid ? parsed : null)
        return send(res, 200, JSON.stringify(out))
      }
    }

    // Everything below talks to the target; abort that if the client goes away or we close.
    const ac = new AbortController()
    inflight.add(ac)
    res.on('close', () => ac.abort())
    try {
      if (mode.kind === 'delay') {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, mode.ms)
          const early = () => (clearTimeout(t), resolve())
          ac.signal.addEventListener('abort', early, { once: true })
        })
      }
      if (ac.signal.aborted) return
      const needsRewrite = valid && (mode.kind === 'stale' || mode.kind === 'wrongChain' || mode.kind === 'lie' || mode.kind === 'logRange')
      const up = needsRewrite ? await rewrite(mode, head, parsed, ac.signal) : await forward(body, ac.signal)
      send(res, up.status, up.body, { 'content-type': up.contentType })
    } catch (e) {
      const error = `faultProxy upstream failure: ${(e as Error).message}`
      if (!ac.signal.aborted) send(res, 502, JSON.stringify({ error }))
    } finally {
      inflight.delete(ac)
    }
  }

  const server = createServer((req, res) => {
    req.on('error', () => {})
    res.on('error', () => {})
    if (opts.cors) {
      for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value)
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type',
          'access-control-max-age': '600',
        })
        res.end()
        return
      }
    }
    handle(req, res).catch((e: unknown) => {
      send(res, 500, JSON.stringify({ error: `faultProxy bug: ${(e as Error).message}` }))
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    // Resets and client aborts surface as ECONNRESET/EPIPE here; they are the point, not a failure.
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      closed++
    })
  })
  server.on('clientError', (_err, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  if (opts.mode) setMode(opts.mode)

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setMode,
    mode: () => current,
    count: () => requests,
    methodCounts: () => ({ ...methods }),
    lastHeaders: () => ({ ...headers }),
    arrivals: () => [...arrivals],
    throttled: () => throttled,
    resetCounts() {
      requests = 0
      arrivals = []
      throttled = 0
      methods = {}
    },
    openConnections: () => sockets.size,
    closedConnections: () => closed,
    close() {
      closing ??= (async () => {
        for (const ac of inflight) ac.abort()
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
        // Wait for each socket's own 'close' so openConnections() is already 0 when this resolves;
        // the server's close callback can fire a tick before those.
        const socketsClosed = [...sockets].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())))
        for (const s of sockets) s.destroy()
        await Promise.all([serverClosed, ...socketsClosed])
      })()
      return closing
    },
  }
}
