/**
 * The bench's server process: instant JSON-RPC listeners and fault proxies, kept off the client's
 * event loop (and core). Driven over IPC by bench/main.ts; exits as soon as that channel closes, so
 * it cannot outlive the bench.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createFaultProxy, type FaultMode, type FaultProxy } from '../test/support/faultProxy.js'
import { CALL_RESULT, CHAIN_ID } from './fixtures.js'
import { serveParent } from './ipc.js'

export type ServerCommand =
  | { cmd: 'instant'; listeners: number }
  | { cmd: 'proxies'; target: string; count: number }
  | { cmd: 'setMode'; index: number; mode: FaultMode }
  | { cmd: 'counts' }
  | { cmd: 'resetCounts' }
  | { cmd: 'closeProxies' }

const RESULTS: Record<string, string> = {
  eth_blockNumber: '0x1000',
  eth_chainId: `0x${CHAIN_ID.toString(16)}`,
  net_version: String(CHAIN_ID),
  eth_call: CALL_RESULT,
}

type RpcEntry = { id?: unknown; method?: unknown }

function answer(entry: RpcEntry): object {
  const result = typeof entry.method === 'string' ? RESULTS[entry.method] : undefined
  if (result === undefined) return { jsonrpc: '2.0', id: entry.id ?? null, error: { code: -32601, message: 'method not found' } }
  return { jsonrpc: '2.0', id: entry.id ?? null, result }
}

/** Answers at once, from memory: the cheapest honest JSON-RPC server (it still parses every body). */
function instantHandler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    let body: unknown
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
      return
    }
    const out = JSON.stringify(Array.isArray(body) ? body.map((e) => answer(e as RpcEntry)) : answer(body as RpcEntry))
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
}

const servers: Server[] = []
let proxies: FaultProxy[] = []

async function listen(): Promise<string> {
  const server = createServer(instantHandler)
  // Longer than any pause in the bench, so no client ever reuses a socket the server is closing.
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 125_000
  server.on('clientError', (_e, socket) => socket.destroy())
  servers.push(server)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function handle(msg: ServerCommand): Promise<unknown> {
  switch (msg.cmd) {
    case 'instant': {
      const urls: string[] = []
      for (let i = 0; i < msg.listeners; i++) urls.push(await listen())
      return urls
    }
    case 'proxies': {
      const created = await Promise.all(Array.from({ length: msg.count }, () => createFaultProxy(msg.target)))
      proxies.push(...created)
      return created.map((p) => p.url)
    }
    case 'setMode': {
      const proxy = proxies[msg.index]
      if (!proxy) throw new Error(`no proxy #${msg.index}`)
      proxy.setMode(msg.mode)
      return null
    }
    case 'counts':
      return proxies.map((p) => p.count())
    case 'resetCounts':
      for (const p of proxies) p.resetCounts()
      return null
    case 'closeProxies': {
      const closing = proxies
      proxies = []
      await Promise.all(closing.map((p) => p.close()))
      return null
    }
  }
}

serveParent<ServerCommand>(handle)
