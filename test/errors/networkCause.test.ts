import { describe, expect, it } from 'vitest'
import { NetworkError } from '../../src/errors/endpoint.js'
import { networkCause } from '../../src/errors/networkCause.js'
import { TimeoutError } from '../../src/errors/request.js'

// How a failure below HTTP is named, from the error objects the platform raises (the real ones are
// provoked in test/platform/httpPoster.test.ts and test/transport/ws.test.ts). Codes only: messages
// of lower layers may quote the URL, so none of them is read.

const system = (code: string, syscall?: string) => Object.assign(new Error(`${syscall ?? 'x'} ${code} https://node.example/v3/KEY`), { code, ...(syscall ? { syscall } : {}) })
const undici = (cause: unknown) => new TypeError('fetch failed', { cause })

describe('NetworkError names its cause', () => {
  it.each([
    { code: 'ECONNREFUSED', syscall: 'connect', reason: 'connection-refused', message: 'Network error: connection refused (ECONNREFUSED)', details: 'connect ECONNREFUSED: nothing listens at that host and port' },
    { code: 'ENOTFOUND', syscall: 'getaddrinfo', reason: 'host-not-found', message: 'Network error: host not found (ENOTFOUND)', details: 'getaddrinfo ENOTFOUND: the host name does not resolve (a typo in the URL?)' },
    { code: 'EAI_AGAIN', syscall: 'getaddrinfo', reason: 'dns-unavailable', message: 'Network error: DNS lookup failed (EAI_AGAIN)', details: 'getaddrinfo EAI_AGAIN: the host name could not be looked up now (no DNS server reachable?)' },
    { code: 'ECONNRESET', syscall: 'read', reason: 'connection-reset', message: 'Network error: connection reset (ECONNRESET)', details: 'read ECONNRESET: the server or a proxy dropped the connection mid-request' },
    { code: 'ETIMEDOUT', syscall: 'connect', reason: 'timed-out', message: 'Network error: connection timed out (ETIMEDOUT)', details: 'connect ETIMEDOUT: the host did not answer (a firewall, or a wrong address?)' },
    { code: 'EPIPE', syscall: 'write', reason: 'broken-pipe', message: 'Network error: broken pipe (EPIPE)', details: 'write EPIPE: the server closed the connection while the request was being sent' },
    { code: 'EHOSTUNREACH', syscall: 'connect', reason: 'unreachable', message: 'Network error: host unreachable (EHOSTUNREACH)', details: 'connect EHOSTUNREACH: no route to the host' },
    { code: 'UND_ERR_SOCKET', reason: 'connection-closed', message: 'Network error: connection closed by the server (UND_ERR_SOCKET)', details: 'UND_ERR_SOCKET: the server closed the connection before it answered' },
    { code: 'UND_ERR_CONNECT_TIMEOUT', reason: 'timed-out', message: 'Network error: connection timed out (UND_ERR_CONNECT_TIMEOUT)', details: 'UND_ERR_CONNECT_TIMEOUT: the host did not answer (a firewall, or a wrong address?)' },
    { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', reason: 'tls-certificate', message: 'Network error: TLS certificate rejected: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)' },
    { code: 'CERT_HAS_EXPIRED', reason: 'tls-certificate', message: 'Network error: TLS certificate rejected: certificate expired (CERT_HAS_EXPIRED)' },
    { code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: 'tls-certificate', message: 'Network error: TLS certificate rejected: certificate is for another host name (ERR_TLS_CERT_ALTNAME_INVALID)' },
    { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'tls-certificate', message: 'Network error: TLS certificate rejected: issuer not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)' },
    { code: 'CERT_CHAIN_TOO_LONG', reason: 'tls-certificate', message: 'Network error: TLS certificate rejected: cert chain too long (CERT_CHAIN_TOO_LONG)' },
    { code: 'EPROTO', syscall: 'write', reason: 'tls-handshake', message: 'Network error: TLS handshake failed (EPROTO)' },
    { code: 'ERR_SSL_WRONG_VERSION_NUMBER', reason: 'tls-handshake', message: 'Network error: TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER)' },
    { code: 'EWHATEVER', reason: 'other', message: 'Network error (EWHATEVER)', details: 'EWHATEVER' },
  ])('$code', ({ code, syscall, reason, message, details }) => {
    // node:http raises the system error itself; undici wraps it as the cause of "fetch failed".
    for (const cause of [system(code, syscall), undici(system(code, syscall))]) {
      const error = new NetworkError({ endpoint: 'A', cause })
      expect(error).toMatchObject({ reason, causeCode: code, shortMessage: message })
      if (details !== undefined) expect(error.details).toBe(details)
      expect(error.message).not.toContain('node.example')
    }
  })

  it('without a code (a browser\'s "Failed to fetch"), it says no more than it knows', () => {
    const error = new NetworkError({ cause: new TypeError('Failed to fetch') })
    expect(error).toMatchObject({ reason: 'other', causeCode: undefined, shortMessage: 'Network error', details: undefined })
  })

  it('looks into an AggregateError (both address families refused)', () => {
    const cause = Object.assign(new AggregateError([system('ECONNREFUSED', 'connect'), system('ECONNREFUSED', 'connect')], ''), {})
    expect(new NetworkError({ cause })).toMatchObject({ reason: 'connection-refused', causeCode: 'ECONNREFUSED' })
  })

  it('a wrapper of ours keeps the reading of the network error it wraps, and adds its own context', () => {
    const refused = new NetworkError({ endpoint: 'A', details: 'websocket error', cause: system('ECONNREFUSED', 'connect') })
    const closed = new NetworkError({ endpoint: 'A', details: 'websocket closed', cause: refused })
    expect(closed).toMatchObject({ reason: 'connection-refused', causeCode: 'ECONNREFUSED', shortMessage: 'Network error: connection refused (ECONNREFUSED)', details: 'websocket closed; ECONNREFUSED: nothing listens at that host and port' })
  })

  it('our other codes are not network causes: a timeout under it is looked through', () => {
    const error = new NetworkError({ details: 'websocket closed', cause: new TimeoutError('attempt', 1000, { cause: system('ECONNRESET') }) })
    expect(error).toMatchObject({ reason: 'connection-reset', causeCode: 'ECONNRESET' })
    expect(new NetworkError({ cause: new TimeoutError('attempt', 1000) })).toMatchObject({ reason: 'other', causeCode: undefined, shortMessage: 'Network error' })
  })

  it('a reason given by the caller (a WebSocket closed by its peer) wins', () => {
    expect(new NetworkError({ reason: 'connection-closed', details: 'websocket closed by the peer (code 1006)' })).toMatchObject({
      reason: 'connection-closed',
      shortMessage: 'Network error: connection closed by the server',
      details: 'websocket closed by the peer (code 1006)',
    })
  })

  it('follows causes a bounded depth, and survives a loop', () => {
    const a: { code?: string; cause?: unknown } = {}
    const b = { cause: a }
    a.cause = b
    expect(networkCause(a)).toMatchObject({ reason: 'other', code: undefined })
    let deep: unknown = system('ECONNREFUSED')
    for (let i = 0; i < 10; i++) deep = new Error('wrapper', { cause: deep })
    expect(networkCause(deep).reason).toBe('other')
  })
})
