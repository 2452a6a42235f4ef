// Node's transport: `node:http`/`node:https` with a keep-alive agent per endpoint. On Node 20 undici's
// `fetch` costs about three times the CPU per request of `node:http` (measured in bench/, see
// docs/performance.md), which is most of what a pool adds at high concurrency. Only ./node.ts imports
// this module, so browser builds (which swap ./node.ts for ./browser.ts) never see a Node built-in.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { Readable } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { networkError, parseAnswer, statusError, tooLarge, type HttpAnswer, type HttpPoster, type HttpPosterOptions } from './httpPoster.js'

/** POSTs JSON-RPC bodies over `node:http`/`node:https`, reusing connections. */
export function createNodePoster(options: HttpPosterOptions): HttpPoster {
  const { maxResponseBytes } = options
  const target = new URL(options.url)
  const secure = target.protocol === 'https:'
  // Idle sockets are unref'd by the agent itself (Agent#keepSocketAlive), so they never keep a process
  // alive; `destroy()` closes them at once. The agent's `timeout` only closes idle sockets: a request
  // in flight is bounded by its signal (tested).
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, timeout: options.idleSocketTimeout, scheduling: 'lifo' as const }
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions)
  const send = secure ? httpsRequest : httpRequest
  // Shared by every request: node:http copies options and headers. Content-Length comes from `end(body)`.
  const requestOptions: RequestOptions = {
    protocol: target.protocol,
    // URL keeps IPv6 literals bracketed; node:http wants them bare.
    hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: target.port === '' ? undefined : Number(target.port),
    path: `${target.pathname}${target.search}`,
    method: 'POST',
    agent,
    headers: { 'accept-encoding': 'gzip, deflate, br', ...options.headers },
  }

  return {
    post(body: string, signal: AbortSignal): Promise<HttpAnswer> {
      return new Promise<HttpAnswer>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason)
        let settled = false
        const req = send(requestOptions)
        const finish = (error: unknown, answer?: HttpAnswer) => {
          if (settled) return
          settled = true
          signal.removeEventListener('abort', onAbort)
          if (answer) resolve(answer)
          else reject(error)
        }
        // The socket goes at once: a timed-out or hedged-away request must not hold a connection.
        const onAbort = () => {
          finish(signal.reason)
          req.destroy()
        }
        signal.addEventListener('abort', onAbort, { once: true })
        req.on('error', (error) => finish(signal.aborted ? signal.reason : networkError(error, options)))
        req.on('response', (res: IncomingMessage) => {
          const status = res.statusCode ?? 0
          const refused = statusError(status, () => header(res, 'retry-after'), options)
          if (refused) {
            // Drained, not destroyed: the connection stays usable.
            res.resume()
            return finish(refused)
          }
          const declared = Number(res.headers['content-length'] ?? NaN)
          if (declared > maxResponseBytes) {
            finish(tooLarge(declared, options))
            return req.destroy()
          }
          const body = decoded(res)
          const chunks: Buffer[] = []
          let bytes = 0
          body.on('data', (chunk: Buffer) => {
            bytes += chunk.length
            if (bytes <= maxResponseBytes) return void chunks.push(chunk)
            finish(tooLarge(undefined, options))
            req.destroy()
          })
          body.on('end', () => {
            if (settled) return
            const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, bytes).toString('utf8')
            try {
              finish(undefined, parseAnswer(status, text, options))
            } catch (error) {
              finish(error)
            }
          })
          body.on('error', (error) => finish(signal.aborted ? signal.reason : networkError(error, options)))
          if (body !== res) res.on('error', (error) => finish(signal.aborted ? signal.reason : networkError(error, options)))
        })
        req.end(body)
      })
    },
    destroy() {
      agent.destroy()
    },
  }
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
