import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isResilientRpcError, UnauthorizedError, type ErrorCode } from '../../src/errors/errors.js'
import { createHttpTransport, type HttpTransportOptions } from '../../src/transport/http.js'

// The transport against a real node:http server on 127.0.0.1, scripted per test. The URL carries a
// fake API key in its path: it must never show up in an error.

const ENDPOINT = 'http://127.0.0.1:0#7'
const SECRET = 'SECRETKEY'

type Received = { headers: IncomingHttpHeaders; body: unknown; closed: Promise<void> }
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
      received.push({ headers: req.headers, body, closed })
      handler(req, res, (body ?? {}) as { id?: unknown })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/${SECRET}`
})

afterEach(async () => {
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

function transport(options: Partial<HttpTransportOptions> = {}) {
  return createHttpTransport({ url, endpoint: ENDPOINT, ...options })
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

describe('createHttpTransport: success and framing', () => {
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

describe('createHttpTransport: HTTP statuses', () => {
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

describe('createHttpTransport: malformed answers', () => {
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

describe('createHttpTransport: network failures and aborts', () => {
  it('connection refused → NETWORK with the error code, never the URL path', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const error = await failure(transport({ url: `http://127.0.0.1:${port}/v3/${SECRET}` }).request('eth_blockNumber', [], { signal: live() }))
    expectCode(error, 'NETWORK')
    expect(error).toMatchObject({ details: 'ECONNREFUSED' })
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
    expect((error as { details: string }).details).toMatch(/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/)
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

describe('createHttpTransport: every error names the endpoint and never the URL', () => {
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

/** Polls (real time, a few ms at most) until the server has seen what the test waits for. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2))
  expect(condition()).toBe(true)
}
