// What a failure below HTTP was, read from the error the platform raised: node:http's system errors
// carry a `code` (ECONNREFUSED, …) themselves, undici's `fetch` wraps one as the `cause` of a bare
// "fetch failed", `ws` hands it over in its error event, and our own wrappers (a WebSocket closed
// after a failed connect) keep it as their cause. Only codes are read, never messages: a lower
// layer's message may quote the URL.
import { BRAND } from './code.js'

/**
 * What went wrong below HTTP, as a program reads it. Stable: values may be added, never renamed.
 * - `connection-refused`: nothing listens at the host and port (`ECONNREFUSED`)
 * - `host-not-found`: the host name does not resolve (`ENOTFOUND`, `EAI_NONAME`, `EAI_NODATA`, `EAI_FAIL`)
 * - `dns-unavailable`: the name could not be looked up now (`EAI_AGAIN`)
 * - `connection-reset`: the connection was reset mid-request (`ECONNRESET`, `ECONNABORTED`)
 * - `connection-closed`: the server closed the connection before answering (undici's `UND_ERR_SOCKET`, a WebSocket closed by its peer)
 * - `timed-out`: the host did not answer the connection (`ETIMEDOUT`, `UND_ERR_CONNECT_TIMEOUT`), or a WebSocket missed its keepalive
 * - `broken-pipe`: the connection closed while the request was being written (`EPIPE`)
 * - `unreachable`: no route to the host or network (`EHOSTUNREACH`, `ENETUNREACH`, `ENETDOWN`, `EHOSTDOWN`)
 * - `tls-certificate`: the endpoint's TLS certificate was not accepted (self-signed, expired, another host's…)
 * - `tls-handshake`: TLS could not be negotiated (`EPROTO`, `ERR_SSL_*`: often https:// to a plain HTTP port)
 * - `other`: anything else; `causeCode` holds the platform's code when there is one
 */
export type NetworkReason =
  | 'connection-refused'
  | 'host-not-found'
  | 'dns-unavailable'
  | 'connection-reset'
  | 'connection-closed'
  | 'timed-out'
  | 'broken-pipe'
  | 'unreachable'
  | 'tls-certificate'
  | 'tls-handshake'
  | 'other'

/** A network failure's reason, the platform's code, and words for people. */
export type NetworkCause = {
  reason: NetworkReason
  /** The platform's code (`ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`, `UND_ERR_SOCKET`…), if it gave one. */
  code: string | undefined
  /** The failed system call (`connect`, `getaddrinfo`, `read`, `write`), if known. */
  syscall: string | undefined
  /** What happened, for the short message: "connection refused". */
  words: string | undefined
  /** What it usually means, for the details. */
  hint: string | undefined
}

type Known = { reason: NetworkReason; words: string; hint: string }

const CERTIFICATE_HINT = 'the certificate is not trusted here; for a private CA, give Node its certificate (NODE_EXTRA_CA_CERTS)'
const certificate = (what: string, hint = CERTIFICATE_HINT): Known => ({ reason: 'tls-certificate', words: `TLS certificate rejected: ${what}`, hint })

const KNOWN: Readonly<Record<string, Known>> = {
  ECONNREFUSED: { reason: 'connection-refused', words: 'connection refused', hint: 'nothing listens at that host and port' },
  ENOTFOUND: { reason: 'host-not-found', words: 'host not found', hint: 'the host name does not resolve (a typo in the URL?)' },
  EAI_NONAME: { reason: 'host-not-found', words: 'host not found', hint: 'the host name does not resolve (a typo in the URL?)' },
  EAI_NODATA: { reason: 'host-not-found', words: 'host not found', hint: 'the host name has no address' },
  EAI_FAIL: { reason: 'host-not-found', words: 'host not found', hint: 'the DNS server could not resolve the host name' },
  EAI_AGAIN: { reason: 'dns-unavailable', words: 'DNS lookup failed', hint: 'the host name could not be looked up now (no DNS server reachable?)' },
  ECONNRESET: { reason: 'connection-reset', words: 'connection reset', hint: 'the server or a proxy dropped the connection mid-request' },
  ECONNABORTED: { reason: 'connection-reset', words: 'connection aborted', hint: 'the connection was dropped mid-request' },
  UND_ERR_SOCKET: { reason: 'connection-closed', words: 'connection closed by the server', hint: 'the server closed the connection before it answered' },
  ETIMEDOUT: { reason: 'timed-out', words: 'connection timed out', hint: 'the host did not answer (a firewall, or a wrong address?)' },
  UND_ERR_CONNECT_TIMEOUT: { reason: 'timed-out', words: 'connection timed out', hint: 'the host did not answer (a firewall, or a wrong address?)' },
  EPIPE: { reason: 'broken-pipe', words: 'broken pipe', hint: 'the server closed the connection while the request was being sent' },
  EHOSTUNREACH: { reason: 'unreachable', words: 'host unreachable', hint: 'no route to the host' },
  EHOSTDOWN: { reason: 'unreachable', words: 'host down', hint: 'no route to the host' },
  ENETUNREACH: { reason: 'unreachable', words: 'network unreachable', hint: 'no route to the network (offline? IPv6 without a route?)' },
  ENETDOWN: { reason: 'unreachable', words: 'network down', hint: 'the network interface is down' },
  EPROTO: { reason: 'tls-handshake', words: 'TLS handshake failed', hint: 'no TLS spoken at that port (https:// to a plain HTTP port?), or no protocol both sides accept' },
  DEPTH_ZERO_SELF_SIGNED_CERT: certificate('self-signed certificate'),
  SELF_SIGNED_CERT_IN_CHAIN: certificate('self-signed certificate in the chain'),
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: certificate('issuer not trusted', 'the server sends an incomplete chain, or its CA is not trusted here (NODE_EXTRA_CA_CERTS)'),
  UNABLE_TO_GET_ISSUER_CERT: certificate('issuer not trusted', 'the server sends an incomplete chain, or its CA is not trusted here (NODE_EXTRA_CA_CERTS)'),
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: certificate('issuer not trusted', 'the server sends an incomplete chain, or its CA is not trusted here (NODE_EXTRA_CA_CERTS)'),
  CERT_HAS_EXPIRED: certificate('certificate expired', 'the server must renew its certificate (or this machine’s clock is wrong)'),
  CERT_NOT_YET_VALID: certificate('certificate not yet valid', 'this machine’s clock may be wrong'),
  ERR_TLS_CERT_ALTNAME_INVALID: certificate('certificate is for another host name', 'the URL’s host is not among the names the certificate covers'),
  CERT_REVOKED: certificate('certificate revoked', 'the server must replace its certificate'),
}

// Follows causes (and an AggregateError's first error) this deep at most.
const MAX_DEPTH = 6

/** The network cause of `error`: the first code anywhere in its cause chain that says what happened. */
export function networkCause(error: unknown): NetworkCause {
  let first: { code: string; syscall: string | undefined } | undefined
  let value = error
  for (let depth = 0; depth < MAX_DEPTH && typeof value === 'object' && value !== null; depth++) {
    const v = value as { code?: unknown; syscall?: unknown; reason?: unknown; causeCode?: unknown; cause?: unknown; errors?: unknown; [BRAND]?: unknown }
    if (v[BRAND] === true) {
      // One of ours (a WebSocket closed after a refused connect): its reading stands. Our other codes
      // (TIMEOUT, …) say nothing about the network: look further down.
      if (v.code === 'NETWORK' && typeof v.reason === 'string' && v.reason !== 'other') {
        const code = typeof v.causeCode === 'string' ? v.causeCode : undefined
        const known = code === undefined ? undefined : KNOWN[code] ?? tlsFamily(code)
        return { reason: v.reason as NetworkReason, code, syscall: undefined, words: known?.words ?? REASON_WORDS[v.reason as NetworkReason], hint: known?.hint }
      }
    } else if (typeof v.code === 'string') {
      const syscall = typeof v.syscall === 'string' ? v.syscall : undefined
      const known = KNOWN[v.code] ?? tlsFamily(v.code)
      if (known) return { ...known, code: v.code, syscall }
      first ??= { code: v.code, syscall }
    }
    value = v.cause ?? (Array.isArray(v.errors) ? v.errors[0] : undefined)
  }
  return { reason: 'other', code: first?.code, syscall: first?.syscall, words: undefined, hint: undefined }
}

/** Certificate and handshake codes not listed one by one (OpenSSL has dozens). */
function tlsFamily(code: string): Known | undefined {
  if (/CERT|_SIGNATURE|INVALID_CA|PATH_LENGTH|INVALID_PURPOSE/.test(code)) return certificate(code.toLowerCase().replaceAll('_', ' '))
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return KNOWN.EPROTO
  return undefined
}

/** Words for a reason given without a code (a WebSocket closed by its peer, a missed keepalive). */
const REASON_WORDS: Readonly<Record<NetworkReason, string | undefined>> = {
  'connection-refused': 'connection refused',
  'host-not-found': 'host not found',
  'dns-unavailable': 'DNS lookup failed',
  'connection-reset': 'connection reset',
  'connection-closed': 'connection closed by the server',
  'timed-out': 'timed out',
  'broken-pipe': 'broken pipe',
  unreachable: 'host unreachable',
  'tls-certificate': 'TLS certificate rejected',
  'tls-handshake': 'TLS handshake failed',
  other: undefined,
}

/** A reason given explicitly, with the words that go with it. */
export function givenCause(reason: NetworkReason): NetworkCause {
  return { reason, code: undefined, syscall: undefined, words: REASON_WORDS[reason], hint: undefined }
}
