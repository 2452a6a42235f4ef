import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { UnauthorizedError } from '../../src/errors/endpoint.js'
import type { ErrorCode } from '../../src/errors/base.js'
import { runInChild } from '../support/runInChild.js'
import { createHttpTransport, type HttpTransportOptions } from '../../src/transport/http.js'
import type { Transport } from '../../src/transport/transport.js'

// The transport against a real node:http server on 127.0.0.1, scripted per test. The URL carries a
// fake API key in its path: it must never show up in an error.

const ENDPOINT = 'http://127.0.0.1:0#7'
const SECRET = 'SECRETKEY'

type Received = { headers: IncomingHttpHeaders; body: unknown; closed: Promise<void>; remotePort: number | undefined }
type Handler = (req: IncomingMessage, res: ServerResponse, body: { id?: unknown }) => void

let server: Server
let url: string
let handler: Handler
let received: Received[]

beforeEach(async () => {
  received = []
  handler = (_req, res, body) => json(res, 200, { jsonrpc: '2.0', id: body.id, result: '0x1' })
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    const closed = new Promise<void>((resolve) => req.socket.once('close', () => resolve()))
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
      received.push({ headers: req.headers, body, closed, remotePort: req.socket.remotePort })
      handler(req, res, (body ?? {}) as { id?: unknown })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/${SECRET}`
})

afterEach(async () => {
  for (const t of transports.splice(0)) t.destroy?.()
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers })
  res.end(body)
}

let currentFetch: typeof fetch | undefined
const transports: Transport[] = []

function transport(options: Partial<HttpTransportOptions> = {}) {
  const t = createHttpTransport({ url, endpoint: ENDPOINT, ...(currentFetch ? { fetch: currentFetch } : {}), ...options })
  transports.push(t)
  return t
}

const live = () => new AbortController().signal

/** Runs one request and returns what it rejected with; fails the test if it resolved. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

function expectCode(error: unknown, code: ErrorCode) {
  expect(isResilientRpcError(error, code), `expected ${code}, got ${String(error)}`).toBe(true)
  expect(error).toMatchObject({ code, endpoint: ENDPOINT })
}

// Both transports behave the same: Node's default (node:http) and fetch (browsers, or injected).
describe.each([
  { name: 'node:http (Node default)', viaFetch: undefined },
  { name: 'fetch', viaFetch: globalThis.fetch },
])('createHttpTransport over $name', ({ viaFetch }) => {
  beforeEach(() => {
    currentFetch = viaFetch
  })

  describe('success and framing', () => {
    it('returns the result', async () => {
      handler = (_req, res, body) => json(res, 200, { jsonrpc: '2.0', id: body.id, result: { number: '0x2a' } })
      await expect(transport().request('eth_getBlockByNumber', ['latest', false], { signal: live() })).resolves.toEqual({ number: '0x2a' })
    })

    it('sends JSON-RPC 2.0 bodies with increasing numeric ids and the given method and params', async () => {
      const t = transport()
      await t.request('eth_blockNumber', [], { signal: live() })
      await t.request('eth_getBalance', ['0xabc', 'latest'], { signal: live() })
      await t.request('eth_chainId', [], { signal: live() })
      expect(received.map((r) => r.body)).toEqual([
        { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] },
        { jsonrpc: '2.0', id: 2, method: 'eth_getBalance', params: ['0xabc', 'latest'] },
        { jsonrpc: '2.0', id: 3, method: 'eth_chainId', params: [] },
      ])
    })

    it('keeps one id counter per transport', async () => {
      await transport().request('eth_blockNumber', [], { signal: live() })
      await transport().request('eth_blockNumber', [], { signal: live() })
      expect(received.map((r) => (r.body as { id: number }).id)).toEqual([1, 1])
    })

    it('sends POST with content-type, accept and the custom headers', async () => {
      await transport({ headers: { Authorization: 'Bearer t0ken', 'X-Api-Key': 'k' } }).request('eth_blockNumber', [], { signal: live() })
      expect(received[0]!.headers).toMatchObject({
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: 'Bearer t0ken',
        'x-api-key': 'k',
      })
    })

    it('uses the injected fetch', async () => {
      const calls: string[] = []
      const fetch = ((input: string | URL | Request, init?: RequestInit) => {
        calls.push(`${init?.method} ${String(input)}`)
        return globalThis.fetch(input, init)
      }) as typeof globalThis.fetch
      await transport({ fetch }).request('eth_blockNumber', [], { signal: live() })
      expect(calls).toEqual([`POST ${url}`])
    })
  })

  describe('HTTP statuses', () => {
    it.each([401, 403])('%i → UNAUTHORIZED with the status', async (status) => {
      handler = (_req, res) => text(res, status, 'nope')
      const error = await failure(transport().request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'UNAUTHORIZED')
      expect(error).toBeInstanceOf(UnauthorizedError)
      expect(error).toMatchObject({ status })
    })

    it('401 wins over a JSON-RPC error body', async () => {
      handler = (_req, res, body) => json(res, 401, { jsonrpc: '2.0', id: body.id, error: { code: -32000, message: 'bad key' } })
      expectCode(await failure(transport().request('eth_blockNumber', [], { signal: live() })), 'UNAUTHORIZED')
    })

    it.each([
      { name: 'delta-seconds', header: '7', expected: 7_000 },
      { name: 'fractional seconds', header: '1.5', expected: 1_500 },
      { name: 'zero seconds', header: '0', expected: 0 },
      { name: 'HTTP-date 30 s ahead of now', header: 'Sun, 06 Nov 1994 08:49:37 GMT', expected: 30_000 },
      { name: 'HTTP-date in the past', header: 'Sun, 06 Nov 1994 08:48:00 GMT', expected: 0 },
      { name: 'no header', header: undefined, expected: undefined },
      { name: 'garbage header', header: 'soon', expected: undefined },
    ])('429 with $name → RATE_LIMITED, retryAfter $expected', async ({ header, expected }) => {
      handler = (_req, res) => text(res, 429, 'slow down', header === undefined ? {} : { 'retry-after': header })
      const now = () => Date.UTC(1994, 10, 6, 8, 49, 7)
      const error = await failure(transport({ now }).request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'RATE_LIMITED')
      expect(error).toHaveProperty('retryAfter', expected)
    })

    // Infura's documented 429: how long to back off is in the JSON-RPC error's data, not in a header.
    const infura = (id: unknown) => ({
      jsonrpc: '2.0',
      id,
      error: { code: -32005, message: 'project ID request rate exceeded', data: { current_rps: 13.333, allowed_rps: 10.0, backoff_seconds: 30.0 } },
    })

    it('429 with a back-off in the JSON-RPC error’s data → RATE_LIMITED, retryAfter from it, the error as cause', async () => {
      handler = (_req, res, body) => json(res, 429, infura(body.id))
      const error = await failure(transport().request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'RATE_LIMITED')
      expect(error).toMatchObject({ retryAfter: 30_000, cause: { code: 'RPC_ERROR', rpcCode: -32005, rpcMessage: 'project ID request rate exceeded' } })
    })

    it('429 with both a Retry-After header and a back-off in data → the header wins', async () => {
      handler = (_req, res, body) => json(res, 429, infura(body.id), { 'retry-after': '2' })
      expect(await failure(transport().request('eth_blockNumber', [], { signal: live() }))).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 2_000 })
    })

    it('200 with Cloudflare’s rate-limit page as text → RATE_LIMITED', async () => {
      handler = (_req, res) => text(res, 200, 'error code: 1015')
      const error = await failure(transport().request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'RATE_LIMITED')
      expect(error).toMatchObject({ retryAfter: undefined, details: 'body starts with "error code: 1015"' })
    })

    it.each([500, 502, 503])('%i with a text body → HTTP_ERROR with the status', async (status) => {
      handler = (_req, res) => text(res, status, '<html>Bad Gateway</html>')
      const error = await failure(transport().request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'HTTP_ERROR')
      expect(error).toMatchObject({ status, shortMessage: `HTTP ${status}` })
    })

    it('500 with JSON that is not a JSON-RPC error → HTTP_ERROR', async () => {
      handler = (_req, res) => json(res, 500, { message: 'internal' })
      expect(await failure(transport().request('eth_blockNumber', [], { signal: live() }))).toMatchObject({ code: 'HTTP_ERROR', status: 500 })
    })

    it.each([
      { status: 200, error: { code: 3, message: 'execution reverted', data: '0x08c379a0' } },
      { status: 400, error: { code: -32602, message: 'invalid argument 0' } },
      { status: 500, error: { code: -32000, message: 'execution reverted: nope', data: { reason: 'nope' } } },
    ])('$status with a JSON-RPC error body → RPC_ERROR keeping code, message and data', async ({ status, error: rpcError }) => {
      handler = (_req, res, body) => json(res, status, { jsonrpc: '2.0', id: body.id, error: rpcError })
      const error = await failure(transport().request('eth_call', [{}], { signal: live() }))
      expectCode(error, 'RPC_ERROR')
      expect(error).toMatchObject({ rpcCode: rpcError.code, rpcMessage: rpcError.message, data: rpcError.data })
    })
  })

  describe('malformed answers', () => {
    it('200 with a non-JSON body → INVALID_RESPONSE naming the start of the body', async () => {
      handler = (_req, res) => text(res, 200, '<!DOCTYPE html><html><body>Cloudflare says hi, and a lot more text follows</body></html>')
      const error = await failure(transport().request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'INVALID_RESPONSE')
      expect((error as { details: string }).details).toContain('<!DOCTYPE html>')
      expect((error as { details: string }).details).not.toContain('a lot more text follows')
    })

    it.each([
      { name: 'a wrong id', body: (id: unknown) => ({ jsonrpc: '2.0', id: Number(id) + 100, result: '0x1' }) },
      { name: 'a string id', body: (id: unknown) => ({ jsonrpc: '2.0', id: String(id), result: '0x1' }) },
      { name: 'no result nor error', body: (id: unknown) => ({ jsonrpc: '2.0', id }) },
      { name: 'an array', body: () => [] },
    ])('200 JSON with $name → INVALID_RESPONSE', async ({ body }) => {
      handler = (_req, res, req) => json(res, 200, body(req.id))
      expectCode(await failure(transport().request('eth_blockNumber', [], { signal: live() })), 'INVALID_RESPONSE')
    })
  })

  describe('network failures and aborts', () => {
    it('connection refused → NETWORK with the error code, never the URL path', async () => {
      const closed = createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      const port = (closed.address() as AddressInfo).port
      await new Promise<void>((resolve) => closed.close(() => resolve()))
      const error = await failure(transport({ url: `http://127.0.0.1:${port}/v3/${SECRET}` }).request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'NETWORK')
      expect(error).toMatchObject({ reason: 'connection-refused', causeCode: 'ECONNREFUSED', shortMessage: 'Network error: connection refused (ECONNREFUSED)' })
      expect((error as { details: string }).details).toBe('connect ECONNREFUSED: nothing listens at that host and port')
      expect((error as Error).message).not.toContain(SECRET)
      expect((error as Error).message).not.toContain('/v3/')
    })

    it.each([
      { name: 'before any response', act: (req: IncomingMessage) => req.socket.destroy() },
      {
        name: 'in the middle of the body',
        act: (req: IncomingMessage, res: ServerResponse) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' })
          res.write('{"jsonrpc":"2.0",')
          setImmediate(() => req.socket.destroy())
        },
      },
    ])('socket destroyed $name → NETWORK with a reset-like code, never the URL path', async ({ act }) => {
      handler = (req, res) => act(req, res)
      const error = await failure(transport().request('eth_blockNumber', [], { signal: live() }))
      expectCode(error, 'NETWORK')
      expect(error).toMatchObject({ causeCode: expect.stringMatching(/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/), reason: expect.stringMatching(/^(connection-reset|broken-pipe|connection-closed)$/) })
      expect((error as { details: string }).details).toMatch(/^(\w+ )?(ECONNRESET|EPIPE|UND_ERR_SOCKET): /)
      expect((error as Error).message).not.toContain(SECRET)
      expect((error as { details: string }).details).not.toContain(SECRET)
    })

    it('an abort while the server hangs rejects with exactly the signal reason and closes the connection', async () => {
      handler = () => {}
      const controller = new AbortController()
      const promise = failure(transport().request('eth_blockNumber', [], { signal: controller.signal }))
      await waitUntil(() => received.length === 1)
      const reason = new Error('custom reason')
      controller.abort(reason)
      expect(await promise).toBe(reason)
      await received[0]!.closed
    })

    it('an already aborted signal rejects with its reason without reaching the server', async () => {
      const reason = { not: 'an error' }
      const error = await failure(transport().request('eth_blockNumber', [], { signal: AbortSignal.abort(reason) }))
      expect(error).toBe(reason)
      expect(received).toHaveLength(0)
    })
  })

  describe('response size bound', () => {
    const big = (id: unknown) => JSON.stringify({ jsonrpc: '2.0', id, result: `0x${'ab'.repeat(600)}` })

    it('reads a body of exactly maxResponseBytes', async () => {
      handler = (_req, res, body) => text(res, 200, big(body.id))
      const size = Buffer.byteLength(big(1))
      await expect(transport({ maxResponseBytes: size }).request('eth_call', [], { signal: live() })).resolves.toMatch(/^0xabab/)
    })

    it.each([
      { name: 'a declared Content-Length', write: (res: ServerResponse, body: string) => text(res, 200, body) },
      {
        name: 'a chunked body',
        write: (res: ServerResponse, body: string) => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.write(body.slice(0, 300))
          res.end(body.slice(300))
        },
      },
      {
        name: 'a gzip body that is small on the wire',
        write: (res: ServerResponse, body: string) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
          res.end(gzipSync(body))
        },
      },
    ])('cuts off $name over the bound with INVALID_RESPONSE', async ({ write }) => {
      handler = (_req, res, body) => write(res, big(body.id))
      const error = await failure(transport({ maxResponseBytes: 1_000 }).request('eth_call', [], { signal: live() }))
      expectCode(error, 'INVALID_RESPONSE')
      expect((error as Error).message).toContain('too large')
      expect((error as Error).message).toContain('1000-byte limit')
    })

    it('decodes a gzip body', async () => {
      handler = (_req, res, body) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
        res.end(gzipSync(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: '0x2a' })))
      }
      await expect(transport().request('eth_blockNumber', [], { signal: live() })).resolves.toBe('0x2a')
    })

    it.each([0, -1, 1.5, Number.NaN])('refuses maxResponseBytes %s with INVALID_OPTION', (value) => {
      expect(() => transport({ maxResponseBytes: value })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'maxResponseBytes' }))
    })
  })

  describe('every error names the endpoint and never the URL', () => {
    it.each([
      { name: '401', script: ((_req, res) => text(res, 401, '')) as Handler },
      { name: '429', script: ((_req, res) => text(res, 429, '')) as Handler },
      { name: '502', script: ((_req, res) => text(res, 502, `upstream ${SECRET}`)) as Handler },
      { name: 'RPC error', script: ((_req, res, body) => json(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: -32603, message: 'internal' } })) as Handler },
      { name: 'garbage', script: ((_req, res) => text(res, 200, 'garbage')) as Handler },
      { name: 'wrong id', script: ((_req, res) => json(res, 200, { jsonrpc: '2.0', id: 999, result: '0x1' })) as Handler },
      { name: 'reset', script: ((req) => req.socket.destroy()) as Handler },
    ])('$name', async ({ script }) => {
      handler = script
      const error = await failure(transport().request('eth_blockNumber', [], { signal: live() }))
      expect(isResilientRpcError(error)).toBe(true)
      expect(error).toHaveProperty('endpoint', ENDPOINT)
      expect((error as Error).message).toContain(`Endpoint: ${ENDPOINT}`)
      expect((error as Error).message).not.toContain(SECRET)
    })
  })
})

describe('createHttpTransport over node:http: connections', () => {
  beforeEach(() => {
    currentFetch = undefined
  })

  const remotePorts = () => received.map((r) => r.remotePort)

  it('reuses one connection for requests in sequence, with a Content-Length', async () => {
    const t = transport()
    for (let i = 0; i < 3; i++) await t.request('eth_blockNumber', [], { signal: live() })
    expect(new Set(remotePorts()).size).toBe(1)
    expect(received[0]!.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(received[0]!.body))))
    expect(received[0]!.headers['transfer-encoding']).toBeUndefined()
  })

  it('sends Host, one header per name whatever its case (the caller’s wins), and asks for compression', async () => {
    const t = transport({ headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': '1', 'X-Api-Key': 'k' } })
    await t.request('eth_blockNumber', [], { signal: live() })
    const { headers, body } = received[0]!
    expect(headers.host).toBe(new URL(url).host)
    expect(headers['content-type']).toBe('application/json; charset=utf-8')
    expect(headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(body))))
    expect(headers['accept-encoding']).toBe('gzip, deflate, br')
    expect(headers['x-api-key']).toBe('k')
    expect(headers.connection).toBe('keep-alive')
  })

  it('a Host header given by the caller is sent instead of the URL’s', async () => {
    await transport({ headers: { Host: 'rpc.example' } }).request('eth_blockNumber', [], { signal: live() })
    expect(received[0]!.headers.host).toBe('rpc.example')
  })

  it('opens at most maxSockets connections; the others queue', async () => {
    const pending: ServerResponse[] = []
    handler = (_req, res, body) => {
      pending.push(res)
      ;(res as ServerResponse & { id?: unknown }).id = body.id
    }
    const t = transport({ maxSockets: 2 })
    const requests = Array.from({ length: 5 }, () => t.request('eth_blockNumber', [], { signal: live() }))
    await waitUntil(() => received.length === 2)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(received).toHaveLength(2)
    handler = (_req, res, body) => json(res, 200, { jsonrpc: '2.0', id: body.id, result: '0x1' })
    for (const res of pending) json(res, 200, { jsonrpc: '2.0', id: (res as ServerResponse & { id?: unknown }).id, result: '0x1' })
    await expect(Promise.all(requests)).resolves.toEqual(['0x1', '0x1', '0x1', '0x1', '0x1'])
    expect(new Set(remotePorts()).size).toBe(2)
  })

  it('closes a connection idle for idleSocketTimeout, and a request in flight longer than that still gets its answer', async () => {
    const t = transport({ idleSocketTimeout: 100 })
    handler = (_req, res, body) => setTimeout(() => json(res, 200, { jsonrpc: '2.0', id: body.id, result: '0x2a' }), 300)
    await expect(t.request('eth_blockNumber', [], { signal: live() })).resolves.toBe('0x2a')
    await received[0]!.closed
  })

  it('destroy() closes idle connections', async () => {
    const t = transport()
    await t.request('eth_blockNumber', [], { signal: live() })
    t.destroy?.()
    await received[0]!.closed
  })

  it('an idle connection does not keep the process alive', async () => {
    const result = await runInChild('test/transport/fixtures/idleKeepAlive.ts', { timeout: 10_000 })
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain('answered 0x2a')
    expect(Number(/exited after (\d+) ms/.exec(result.stdout)?.[1])).toBeLessThan(2_000)
    expect(result.exitedOnItsOwn).toBe(true)
    expect(result.code).toBe(0)
  })
})

/** Polls (real time, a few ms at most) until the server has seen what the test waits for. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2))
  expect(condition()).toBe(true)
}
