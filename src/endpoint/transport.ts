import type { ResolvedEndpoint, ResolvedPoolOptions } from '../config/poolOptions.js'
import { createHttpTransport } from '../transport/http.js'
import type { Transport } from '../transport/transport.js'
import { createWsTransport } from '../transport/ws.js'
import type { WsTransport } from '../transport/wsOptions.js'
import { createScrubber, scrubError, secretsOf } from '../util/secrets.js'

/** An endpoint's transport: WebSocket for `ws(s)://`, HTTP otherwise, its errors cleaned of the endpoint's secrets. */
export type EndpointTransport = { transport: Transport; ws: WsTransport | undefined; scrub: ((text: string) => string) | undefined }

export function createEndpointTransport(config: ResolvedEndpoint, options: ResolvedPoolOptions): EndpointTransport {
  const isWs = config.url.startsWith('ws:') || config.url.startsWith('wss:')
  const transport = isWs
    ? createWsTransport({
        ...options.webSocket,
        url: config.url,
        endpoint: config.id,
        headers: config.headers,
        chainId: options.chainId,
        clock: options.clock,
        random: options.random,
        maxResponseBytes: options.maxResponseBytes,
      })
    : createHttpTransport({
        url: config.url,
        headers: config.headers,
        endpoint: config.id,
        fetch: options.fetch,
        batch: options.batch,
        clock: options.clock,
        maxResponseBytes: options.maxResponseBytes,
        maxSockets: options.maxSockets,
      })
  const scrub = createScrubber(secretsOf(config.url, config.headers))
  const wrapped = scrub ? scrubbing(transport, scrub) : transport
  return { transport: wrapped, ws: isWs ? (wrapped as WsTransport) : undefined, scrub }
}

/**
 * The transport with every error it hands out cleaned of the endpoint's own secrets: a node may
 * quote the request (its key) in an error text, and errors travel to events, logs and callers.
 * Only endpoints that have something to hide pay for the extra promise.
 */
function scrubbing(transport: Transport, scrub: (text: string) => string): Transport {
  const clean = (error: unknown): never => {
    throw scrubError(error, scrub)
  }
  const wrapped: Transport & Partial<WsTransport> = Object.create(transport)
  wrapped.request = (method, params, options) => transport.request(method, params, options).catch(clean)
  const ws = transport as Partial<WsTransport>
  if (typeof ws.subscribe === 'function') {
    wrapped.subscribe = (params, onMessage, options) => ws.subscribe!(params, onMessage, options).catch(clean)
  }
  return wrapped
}
