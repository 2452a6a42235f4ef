import { ResilientRpcError } from '../errors/base.js'
import { toRealSignal } from '../util/abort.js'
import { networkError, parseAnswer, rateLimited, statusError, tooLarge, type HttpAnswer, type HttpPoster, type HttpPosterOptions } from './httpPoster.js'

/** POSTs JSON-RPC bodies with `fetch`: the transport of browsers, and of Node when a `fetch` is injected. */
export function createFetchPoster(doFetch: typeof fetch, options: HttpPosterOptions): HttpPoster {
  const { url, headers, maxResponseBytes } = options
  return {
    async post<T>(body: string, signal: AbortSignal, read?: (answer: HttpAnswer) => T): Promise<T> {
      let response: Response
      let text: string
      // fetch insists on a real AbortSignal; the pool's own are lighter (src/util/abort.ts).
      const real = toRealSignal(signal)
      try {
        response = await doFetch(url, { method: 'POST', headers, body, signal: real.signal })
        const refused = statusError(response.status, options)
        if (refused) {
          void response.body?.cancel().catch(() => {})
          throw refused
        }
        // A declared length is checked before a byte is read (fetch enforces that the body matches it).
        // Without one, or when fetch decompresses (the length is then the compressed size), the body is
        // read in chunks and cut off at the bound.
        const declared = Number(response.headers.get('content-length') ?? NaN)
        if (declared > maxResponseBytes) {
          void response.body?.cancel().catch(() => {})
          throw tooLarge(declared, options)
        }
        const trusted = declared >= 0 && !response.headers.has('content-encoding')
        text = trusted || !response.body ? await response.text() : await readBounded(response.body, options)
      } catch (error) {
        // The abort reason (attempt timeout, request deadline, caller abort, destroy) is the truth, not
        // the DOMException fetch rejects with; the caller maps it.
        if (signal.aborted) throw signal.reason
        if (error instanceof ResilientRpcError) throw error
        throw networkError(error, options)
      } finally {
        real.release()
      }
      // A 429's body is read too: it may say how long to back off, or that the quota is gone.
      if (response.status === 429) throw rateLimited(response.headers.get('retry-after'), text, options)
      const answer = parseAnswer(response.status, text, options)
      return read ? read(answer) : (answer as T)
    },
    destroy() {},
  }
}

async function readBounded(stream: ReadableStream<Uint8Array>, options: HttpPosterOptions): Promise<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let bytes = 0
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    bytes += value.byteLength
    if (bytes > options.maxResponseBytes) {
      void reader.cancel().catch(() => {})
      throw tooLarge(undefined, options)
    }
    text += decoder.decode(value, { stream: true })
  }
}
