import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isResilientRpcError } from '../../src/errors/guard.js'
import type { NetworkError } from '../../src/errors/endpoint.js'
import { createFetchPoster } from '../../src/platform/fetchPoster.js'
import type { HttpPoster, HttpPosterOptions } from '../../src/platform/httpPoster.js'
import { createNodePoster } from '../../src/platform/nodePoster.js'
import { SELF_SIGNED_CERT, SELF_SIGNED_KEY } from '../fixtures/tls/selfSigned.js'

// What a network failure is called, by both posters, against real sockets on 127.0.0.1: a port
// nobody listens on, a host that does not resolve, servers that reset or close the connection, and
// TLS that fails (a self-signed certificate, https:// to a plain HTTP port). The URL's path holds a
// fake key: it must never show up. Messages are written out in full (inline snapshots cannot live in describe.each).

const SECRET = 'SECRETKEY42'
const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] })

const servers: Array<{ close(cb: () => void): unknown }> = []
const posters: HttpPoster[] = []

afterEach(async () => {
  for (const p of posters.splice(0)) p.destroy()
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
})

async function listen<S extends Server | ReturnType<typeof createNetServer>>(server: S): Promise<number> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A port that was free a moment ago: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const POSTERS = [
  { name: 'node:http', make: (options: HttpPosterOptions) => createNodePoster(options) },
  { name: 'fetch', make: (options: HttpPosterOptions) => createFetchPoster(globalThis.fetch, options) },
]

describe.each(POSTERS)('network errors over $name name their cause', ({ make }) => {
  async function post(url: string): Promise<NetworkError> {
    const poster = make({ url, headers: { 'content-type': 'application/json' }, errorOptions: { endpoint: 'node-a' }, now: Date.now, maxResponseBytes: 1 << 20, maxSockets: 4, idleSocketTimeout: 1_000 })
    posters.push(poster)
    const error = await poster.post(BODY, new AbortController().signal).then(
      () => expect.unreachable('the post succeeded'),
      (e: unknown) => e,
    )
    expect(isResilientRpcError(error, 'NETWORK'), String(error)).toBe(true)
    const text = JSON.stringify([error, (error as Error).message])
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain('/v3/')
    return error as NetworkError
  }

  it('a refused connection', async () => {
    const error = await post(`http://127.0.0.1:${await closedPort()}/v3/${SECRET}`)
    expect(error).toMatchObject({ reason: 'connection-refused', causeCode: 'ECONNREFUSED' })
    expect(error.message).toBe(
      [
        'Network error: connection refused (ECONNREFUSED)',
        'Endpoint: node-a',
        'Details: connect ECONNREFUSED: nothing listens at that host and port',
      ].join('\n'),
    )
  })

  it('a host that does not resolve', async () => {
    const error = await post(`http://nonexistent.invalid/v3/${SECRET}`)
    // A resolver answers NXDOMAIN for .invalid (RFC 6761); a machine without DNS says it cannot look up now.
    if (error.causeCode === 'EAI_AGAIN') {
      expect(error).toMatchObject({ reason: 'dns-unavailable', shortMessage: 'Network error: DNS lookup failed (EAI_AGAIN)' })
      return
    }
    expect(error).toMatchObject({ reason: 'host-not-found', causeCode: 'ENOTFOUND' })
    expect(error.message).toBe(
      [
        'Network error: host not found (ENOTFOUND)',
        'Endpoint: node-a',
        'Details: getaddrinfo ENOTFOUND: the host name does not resolve (a typo in the URL?)',
      ].join('\n'),
    )
  })

  it('a server that resets the connection', async () => {
    const port = await listen(createNetServer((socket) => socket.resetAndDestroy()))
    const error = await post(`http://127.0.0.1:${port}/v3/${SECRET}`)
    expect(error).toMatchObject({ reason: 'connection-reset', causeCode: 'ECONNRESET', shortMessage: 'Network error: connection reset (ECONNRESET)' })
    expect(error.details).toMatch(/^(connect |read )?ECONNRESET: the server or a proxy dropped the connection mid-request$/)
  })

  it('a server that closes the connection without answering', async () => {
    const port = await listen(createHttpServer((req) => req.socket.destroy()))
    const error = await post(`http://127.0.0.1:${port}/v3/${SECRET}`)
    // node:http calls it a reset ("socket hang up"), undici a closed socket ("other side closed").
    expect([error.causeCode, error.reason, error.shortMessage]).toEqual(
      error.causeCode === 'UND_ERR_SOCKET'
        ? ['UND_ERR_SOCKET', 'connection-closed', 'Network error: connection closed by the server (UND_ERR_SOCKET)']
        : ['ECONNRESET', 'connection-reset', 'Network error: connection reset (ECONNRESET)'],
    )
  })

  it('a self-signed TLS certificate', async () => {
    const port = await listen(createHttpsServer({ key: SELF_SIGNED_KEY, cert: SELF_SIGNED_CERT }, (_req, res) => res.end('{}')))
    const error = await post(`https://127.0.0.1:${port}/v3/${SECRET}`)
    expect(error).toMatchObject({ reason: 'tls-certificate', causeCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    expect(error.message).toBe(
      [
        'Network error: TLS certificate rejected: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
        'Endpoint: node-a',
        'Details: DEPTH_ZERO_SELF_SIGNED_CERT: the certificate is not trusted here; for a private CA, give Node its certificate (NODE_EXTRA_CA_CERTS)',
      ].join('\n'),
    )
  })

  it('https:// to a port that speaks plain HTTP', async () => {
    const port = await listen(createHttpServer((_req, res) => res.end('{}')))
    const error = await post(`https://127.0.0.1:${port}/v3/${SECRET}`)
    // node:https reports OpenSSL's failure as EPROTO, undici with OpenSSL's own code.
    expect(error).toMatchObject({ reason: 'tls-handshake', causeCode: expect.stringMatching(/^(EPROTO|ERR_SSL_WRONG_VERSION_NUMBER)$/) })
    expect(error.shortMessage).toBe(`Network error: TLS handshake failed (${error.causeCode})`)
    expect(error.details).toMatch(/: no TLS spoken at that port \(https:\/\/ to a plain HTTP port\?\), or no protocol both sides accept$/)
  })
})
