// `@opentelemetry/api` is an optional peer dependency: neither its code nor its types are imported,
// so a user without it pays nothing and compiles our types. The shapes we call are in config/.
import type { SpanAttributes, SpanLike, TraceContextLike, TracerLike } from '../config/observabilityOptions.js'
import { isResilientRpcError } from '../errors/guard.js'

// Values of the API's enums, spelled out because importing the enums would import the package.
const SPAN_KIND_CLIENT = 2
const STATUS_OK = 1
const STATUS_ERROR = 2
// The API keys the active span under `createContextKey(description)`, which is `Symbol.for(description)`:
// the same symbol in every copy of the API, so a context built here is read by any SDK.
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN')

/** A minimal immutable OpenTelemetry `Context` holding one parent span, for child spans of a request. */
class ParentContext implements TraceContextLike {
  readonly #values: Map<symbol, unknown>
  constructor(values: Map<symbol, unknown>) {
    this.#values = values
  }
  getValue(key: symbol): unknown {
    return this.#values.get(key)
  }
  setValue(key: symbol, value: unknown): TraceContextLike {
    return new ParentContext(new Map(this.#values).set(key, value))
  }
  deleteValue(key: symbol): TraceContextLike {
    const values = new Map(this.#values)
    values.delete(key)
    return new ParentContext(values)
  }
}

/** What ended an attempt or a request: `ok`, or the error's code (`TIMEOUT`, `RPC_ERROR`, …). */
function outcomeOf(error: unknown): string {
  if (error === undefined) return 'ok'
  return isResilientRpcError(error) ? error.code : 'ERROR'
}

function errorAttributes(error: unknown): SpanAttributes {
  if (!isResilientRpcError(error)) return {}
  const attributes: SpanAttributes = { 'error.type': error.code }
  if (isResilientRpcError(error, 'RPC_ERROR')) attributes['rpc.jsonrpc.error_code'] = error.rpcCode
  return attributes
}

/** One attempt's span; `end` is idempotent and never throws. */
export type AttemptSpan = { end(error?: unknown): void }

/** One pool request's span and its attempts'. Every method is guarded: a throwing tracer never breaks a request. */
export type RequestSpan = {
  /** Starts a child span for an attempt (`hedge`: a hedged duplicate) on `endpoint` (a redacted id); `retry` is 0 for the first attempt. */
  attempt(endpoint: string, retry: number, hedge: boolean): AttemptSpan
  /** Ends the request span with its outcome and how many attempts (hedges included) it made. */
  end(error: unknown, attempts: number, extra?: SpanAttributes): void
}

const NO_ATTEMPT: AttemptSpan = { end() {} }

/**
 * Starts the span of one pool request (`rpc <method>`, kind client, parent: the caller's active
 * context), or returns `undefined` when there is no tracer, so an untraced pool does no work at all.
 */
export function startRequestSpan(tracer: TracerLike | undefined, method: string, kind: 'request' | 'broadcast' = 'request'): RequestSpan | undefined {
  if (tracer === undefined) return undefined
  let span: SpanLike
  try {
    span = tracer.startSpan(`rpc ${method}`, {
      kind: SPAN_KIND_CLIENT,
      attributes: { 'rpc.system': 'jsonrpc', 'rpc.method': method, ...(kind === 'broadcast' ? { 'resilient_rpc.broadcast': true } : {}) },
    })
  } catch {
    return undefined
  }
  let parent: TraceContextLike | undefined
  let ended = false
  return {
    attempt(endpoint, retry, hedge) {
      try {
        parent ??= new ParentContext(new Map([[SPAN_KEY, span]]))
        const child = tracer.startSpan(
          `rpc ${method} ${hedge ? 'hedge' : 'attempt'}`,
          { kind: SPAN_KIND_CLIENT, attributes: { 'rpc.system': 'jsonrpc', 'rpc.method': method, 'resilient_rpc.endpoint': endpoint, 'resilient_rpc.retry': retry, 'resilient_rpc.hedge': hedge } },
          parent,
        )
        let done = false
        return {
          end(error) {
            if (done) return
            done = true
            try {
              child.setAttributes({ 'resilient_rpc.outcome': outcomeOf(error), ...errorAttributes(error) })
              child.setStatus(error === undefined ? { code: STATUS_OK } : { code: STATUS_ERROR, message: isResilientRpcError(error) ? error.shortMessage : 'error' })
              child.end()
            } catch {
              // A broken exporter must not fail the attempt.
            }
          },
        }
      } catch {
        return NO_ATTEMPT
      }
    },
    end(error, attempts, extra) {
      if (ended) return
      ended = true
      try {
        span.setAttributes({ 'resilient_rpc.outcome': outcomeOf(error), 'resilient_rpc.attempts': attempts, ...errorAttributes(error), ...extra })
        span.setStatus(error === undefined ? { code: STATUS_OK } : { code: STATUS_ERROR, message: isResilientRpcError(error) ? error.shortMessage : 'error' })
        span.end()
      } catch {
        // As above: tracing is observation only.
      }
    },
  }
}
