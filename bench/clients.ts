/**
 * The clients under test, each behind the same two operations. Client-side caching and batching are
 * turned off wherever a library does them by default, so every call is one HTTP request.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import type { JsonRpcProvider } from 'ethers'
import type { PublicClient } from 'viem'
import { createPool, type PoolOptions } from '../src/index.js'
import { MAX_TIMER, type Clock } from '../src/util/clock.js'
import { CALL_DATA, CALL_PARAMS, CALL_TO, CHAIN_ID } from './fixtures.js'
import type { Op } from './load.js'

export type ClientKind = 'fetch' | 'fetch-deadline' | 'node-http' | 'ethers' | 'ethers-fallback' | 'viem' | 'viem-fallback' | 'pool' | 'pool-1s'

export const CLIENT_LABELS: Record<ClientKind, string> = {
  fetch: 'raw fetch',
  'fetch-deadline': 'raw fetch + AbortController deadline',
  'node-http': 'raw node:http (keep-alive agent)',
  ethers: 'ethers JsonRpcProvider',
  'ethers-fallback': 'ethers FallbackProvider',
  viem: 'viem http',
  'viem-fallback': 'viem fallback',
  pool: 'resilient-rpc createPool',
  'pool-1s': 'resilient-rpc, attemptTimeout 1 s',
}

/** Whether the client spreads requests over every endpoint it is given (else it uses the first). */
export const MULTI_ENDPOINT: Record<ClientKind, boolean> = {
  fetch: true,
  'fetch-deadline': true,
  'node-http': true,
  ethers: false,
  'ethers-fallback': true,
  viem: false,
  'viem-fallback': true,
  pool: true,
  'pool-1s': true,
}

export type BenchClient = {
  kind: ClientKind
  blockNumber: Op
  call: Op
  /** Extra upstream requests so far (the pool's hedges and retries), where the client can tell. */
  extra?(): number
  destroy(): Promise<void>
}

export type ClientSetup = {
  urls: readonly string[]
  /** Per-request deadline (ms), set through each client's own knob where it has one. */
  deadlineMs?: number
  /**
   * How many times slower than at full speed this process runs (under callgrind, ~100–200×). The
   * pool then gets a clock that runs that much slower, so what it does by the clock (heartbeats every
   * 2 s, hedges after its p95, its budgets' windows) keeps its full-speed share of the work. @default 1
   */
  slowdown?: number
}

export async function createClient(kind: ClientKind, setup: ClientSetup): Promise<BenchClient> {
  const urls = MULTI_ENDPOINT[kind] ? setup.urls : setup.urls.slice(0, 1)
  const client = await build(kind, urls, setup.deadlineMs, setup.slowdown ?? 1)
  // One call each way before anything is measured: lazy set-up (ethers' network, the pool's handshakes) is not the subject.
  await client.blockNumber()
  await client.call()
  return client
}

async function build(kind: ClientKind, urls: readonly string[], deadlineMs: number | undefined, slowdown: number): Promise<BenchClient> {
  switch (kind) {
    case 'fetch':
      return rawFetch(urls, deadlineMs)
    case 'fetch-deadline':
      return rawFetch(urls, deadlineMs ?? 30_000, true)
    case 'node-http':
      return rawNodeHttp(urls)
    // ethers and viem load only in the children that run them: parsing them is most of a child's
    // start-up, which the cpu scenario's instruction counts under callgrind pay for twice per cell.
    case 'ethers': {
      const provider = await ethersProvider(urls[0]!, deadlineMs)
      return {
        kind,
        blockNumber: () => provider.send('eth_blockNumber', []),
        call: () => provider.send('eth_call', [...CALL_PARAMS]),
        destroy: async () => provider.destroy(),
      }
    }
    case 'ethers-fallback': {
      // quorum 1: one endpoint answers each read, like every other client here. ethers' default
      // (half the total weight, 2 of 3) would send every read to two endpoints.
      const { FallbackProvider, Network } = await import('ethers')
      const configs = await Promise.all(urls.map(async (url) => ({ provider: await ethersProvider(url, deadlineMs), priority: 1, weight: 1 })))
      const provider = new FallbackProvider(configs, Network.from(CHAIN_ID), { quorum: 1, cacheTimeout: -1 })
      return {
        kind,
        // FallbackProvider has no raw `send`: its public reads are the path an app takes.
        blockNumber: () => provider.getBlockNumber(),
        call: () => provider.call({ to: CALL_TO, data: CALL_DATA }),
        destroy: () => provider.destroy(),
      }
    }
    case 'viem':
    case 'viem-fallback': {
      const { createPublicClient, defineChain, fallback, http } = await import('viem')
      const chain = defineChain({
        id: CHAIN_ID,
        name: 'bench',
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: ['http://127.0.0.1'] } },
      })
      const transport = (url: string) => http(url, { batch: false, ...(deadlineMs === undefined ? {} : { timeout: deadlineMs }) })
      const client: PublicClient = createPublicClient({
        chain,
        transport: kind === 'viem' ? transport(urls[0]!) : fallback(urls.map(transport)),
      })
      const signal = () => (deadlineMs === undefined ? {} : { signal: AbortSignal.timeout(deadlineMs) })
      return {
        kind,
        blockNumber: () => client.request({ method: 'eth_blockNumber' }, signal()),
        call: () => client.request({ method: 'eth_call', params: [{ to: CALL_TO, data: CALL_DATA }, 'latest'] }, signal()),
        // viem keeps no timers or sockets of its own here (no polling, no ranking).
        destroy: async () => {},
      }
    }
    case 'pool':
    case 'pool-1s': {
      // dedupe and cache off: identical concurrent reads would share one upstream request, and a final
      // answer would come from memory — caching, as far as this bench is concerned (every call must be
      // a real request, as for ethers and viem). Every resilience feature stays on.
      const options: PoolOptions = { endpoints: urls, chainId: CHAIN_ID, dedupe: false, cache: false }
      if (kind === 'pool-1s') options.attemptTimeout = 1_000
      if (slowdown !== 1) options.clock = slowClock(slowdown)
      const pool = createPool(options)
      await pool.ready({ minHealthy: urls.length, timeout: 15_000 })
      // Counted from events the pool emits only when it hedges or retries: no cost on the common path.
      let extra = 0
      pool.on('request:hedge', () => extra++)
      pool.on('request:retry', () => extra++)
      const requestOptions = deadlineMs === undefined ? {} : { timeout: deadlineMs }
      return {
        kind,
        blockNumber: () => pool.request('eth_blockNumber', [], requestOptions),
        call: () => pool.request('eth_call', CALL_PARAMS, requestOptions),
        extra: () => extra,
        destroy: () => pool.destroy(),
      }
    }
  }
}

/** The system clock, `factor` times slower: its milliseconds last `factor` real ones. */
function slowClock(factor: number): Clock {
  const start = Date.now()
  return {
    now: () => start + (Date.now() - start) / factor,
    setTimeout: (fn, ms) => setTimeout(fn, Math.min(MAX_TIMER, ms * factor)),
    clearTimeout: (handle) => clearTimeout(handle),
  }
}

async function ethersProvider(url: string, deadlineMs: number | undefined): Promise<JsonRpcProvider> {
  const { FetchRequest, JsonRpcProvider, Network } = await import('ethers')
  const request = new FetchRequest(url)
  if (deadlineMs !== undefined) request.timeout = deadlineMs
  const network = Network.from(CHAIN_ID)
  return new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1 })
}

/**
 * The floor: one `fetch` per call, round-robin over the endpoints, no retries, no failover.
 * `ownController` is the least any deadline costs (what the pool does per attempt, minus everything
 * else): a fresh AbortController and timer per request, cleared when the answer is in.
 */
function rawFetch(urls: readonly string[], deadlineMs: number | undefined, ownController = false): BenchClient {
  const headers = { 'content-type': 'application/json' }
  let nextId = 1
  let next = 0
  const rpc = async (method: string, params: readonly unknown[]) => {
    const id = nextId++
    const url = urls[next]!
    next = (next + 1) % urls.length
    const init: RequestInit = { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }) }
    let timer: NodeJS.Timeout | undefined
    if (ownController) {
      const controller = new AbortController()
      timer = setTimeout(() => controller.abort(new Error('deadline')), deadlineMs)
      init.signal = controller.signal
    } else if (deadlineMs !== undefined) {
      init.signal = AbortSignal.timeout(deadlineMs)
    }
    try {
      const res = await fetch(url, init)
      const body = (await res.json()) as { id?: unknown; result?: unknown; error?: { message?: string } }
      if (body.id !== id) throw new Error('id mismatch')
      if (body.error) throw new Error(body.error.message ?? 'JSON-RPC error')
      return body.result
    } finally {
      clearTimeout(timer)
    }
  }
  return {
    kind: ownController ? 'fetch-deadline' : 'fetch',
    blockNumber: () => rpc('eth_blockNumber', []),
    call: () => rpc('eth_call', CALL_PARAMS),
    destroy: async () => {},
  }
}

/**
 * The floor of the pool's own Node transport: one `node:http` POST per call over a keep-alive agent
 * per endpoint, round-robin, no signal, no retries. The pool's overhead over it is the pool's logic alone.
 */
function rawNodeHttp(urls: readonly string[]): BenchClient {
  const targets = urls.map((url) => ({ url: new URL(url), agent: new HttpAgent({ keepAlive: true, maxSockets: 64 }) }))
  let nextId = 1
  let next = 0
  const rpc = (method: string, params: readonly unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++
      const { url, agent } = targets[next]!
      next = (next + 1) % targets.length
      const req = httpRequest({ hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown; result?: unknown; error?: { message?: string } }
            if (body.id !== id) throw new Error('id mismatch')
            if (body.error) throw new Error(body.error.message ?? 'JSON-RPC error')
            resolve(body.result)
          } catch (error) {
            reject(error)
          }
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  return {
    kind: 'node-http',
    blockNumber: () => rpc('eth_blockNumber', []),
    call: () => rpc('eth_call', CALL_PARAMS),
    destroy: async () => {
      for (const t of targets) t.agent.destroy()
    },
  }
}
