// Node's transport: `node:http`/`node:https` with a keep-alive agent per endpoint. On Node 20 undici's
// `fetch` costs about three times the CPU per request of `node:http` (measured in bench/, see
// docs/performance.md), which is most of what a pool adds at high concurrency. Only ./node.ts imports
// this module, so browser builds (which swap ./node.ts for ./browser.ts) never see a Node built-in.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { Readable } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { networkError, parseAnswer, rateLimited, statusError, tooLarge, type HttpAnswer, type HttpPoster, type HttpPosterOptions } from './httpPoster.js'

/** POSTs JSON-RPC bodies over `node:http`/`node:https`, reusing connections. */
export function createNodePoster(options: HttpPosterOptions): HttpPoster {
  const { maxResponseBytes } = options
  const target = new URL(options.url)
  const secure = target.protocol === 'https:'
  // Idle sockets are unref'd by the agent itself (Agent#keepSocketAlive), so they never keep a process
  // alive; `destroy()` closes them at once. The agent's `timeout` only closes idle sockets: a request
  // in flight is bounded by its signal (tested). Node copies the agent's `options` into every request's
  // (a dictionary-mode object), so only what must be there is: the socket limits are set as the
  // agent's properties instead, and `scheduling` is left at Node's default, 'lifo' (the most recently
  // used socket first, so the others idle out).
  const agentOptions = { keepAlive: true, timeout: options.idleSocketTimeout }
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions)
  agent.maxSockets = options.maxSockets
  agent.maxFreeSockets = options.maxSockets
  const send = secure ? httpsRequest : httpRequest
  // Headers as an array go out as given: node:http skips its per-request header object (each name
  // lower-cased, validated and stored, then rendered; ~8 % of a request's instructions with three
  // headers, measured under callgrind). Host and Content-Length are then ours to send, as node:http
  // would: Host is the URL's host (port only when not the scheme's default, IPv6 in brackets).
  const fixedHeaders = headerList(options.headers, target.host)
  // Shared by every request (node:http copies it); only `headers` changes, set just before each send.
  const requestOptions: RequestOptions & { headers: string[] } = {
    // URL keeps IPv6 literals bracketed; node:http wants them bare.
    hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: target.port === '' ? undefined : Number(target.port),
    path: `${target.pathname}${target.search}`,
    method: 'POST',
    agent,
    headers: fixedHeaders,
  }

  return {
    post<T>(body: string, signal: AbortSignal, read?: (answer: HttpAnswer) => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason)
        let settled = false
        const headers = fixedHeaders.slice()
        headers.push('content-length', String(Buffer.byteLength(body)))
        requestOptions.headers = headers
        const req = send(requestOptions)
        const fail = (error: unknown) => {
          if (settled) return
          settled = true
          signal.removeEventListener('abort', onAbort)
          reject(error)
        }
        // The socket goes at once: a timed-out or hedged-away request must not hold a connection.
        const onAbort = () => {
          fail(signal.reason)
          req.destroy()
        }
        // Removed on settling; the abort itself settles.
        signal.addEventListener('abort', onAbort)
        req.on('error', (error) => fail(signal.aborted ? signal.reason : networkError(error, options)))
        req.on('response', (res: IncomingMessage) => {
          const status = res.statusCode ?? 0
          // Only an error status can be a refusal decided before the body (401/403; a 429's body is read).
          const refused = status >= 400 ? statusError(status, options) : undefined
          if (refused) {
            // Drained, not destroyed: the connection stays usable.
            res.resume()
            return fail(refused)
          }
          const declared = Number(res.headers['content-length'] ?? NaN)
          if (declared > maxResponseBytes) {
            fail(tooLarge(declared, options))
            return req.destroy()
          }
          const stream = decoded(res)
          const chunks: Buffer[] = []
          let bytes = 0
          stream.on('data', (chunk: Buffer) => {
            bytes += chunk.length
            if (bytes <= maxResponseBytes) return void chunks.push(chunk)
            fail(tooLarge(undefined, options))
            req.destroy()
          })
          stream.on('end', () => {
            if (settled) return
            const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, bytes).toString('utf8')
            let value: T
            try {
              if (status === 429) throw rateLimited(header(res, 'retry-after'), text, options)
              const answer = parseAnswer(status, text, options)
              value = read ? read(answer) : (answer as T)
            } catch (error) {
              return fail(error)
            }
            settled = true
            signal.removeEventListener('abort', onAbort)
            resolve(value)
          })
          stream.on('error', (error) => fail(signal.aborted ? signal.reason : networkError(error, options)))
          if (stream !== res) res.on('error', (error) => fail(signal.aborted ? signal.reason : networkError(error, options)))
        })
        req.end(body)
      })
    },
    destroy() {
      agent.destroy()
    },
  }
}

/**
 * `headers` as node:http's flat [name, value, …] list, names as given; of two names that differ only
 * in case the later wins, as with `setHeader`. Host is added unless given; Content-Length is per body.
 */
function headerList(headers: Record<string, string>, host: string): string[] {
  const byName = new Map<string, [string, string]>()
  byName.set('host', ['host', host])
  for (const [name, value] of Object.entries({ 'accept-encoding': 'gzip, deflate, br', ...headers })) {
    if (name.toLowerCase() !== 'content-length') byName.set(name.toLowerCase(), [name, value])
  }
  return [...byName.values()].flat()
}

function header(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The body as the server meant it: fetch decompresses, so this transport does too. */
function decoded(res: IncomingMessage): Readable {
  switch (header(res, 'content-encoding')?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return res.pipe(createGunzip())
    case 'deflate':
      return res.pipe(createInflate())
    case 'br':
      return res.pipe(createBrotliDecompress())
    default:
      return res
  }
}
