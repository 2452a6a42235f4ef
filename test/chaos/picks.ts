import type { Tracer } from '@opentelemetry/api'

/** One entry of a cell's ordered log: a status the pool reported, or an endpoint it picked for an attempt. */
export type LogEntry =
  | { seq: number; kind: 'status'; endpoint: string; to: string }
  | { seq: number; kind: 'pick'; endpoint: string; method: string }

/**
 * The pool's own account of where each attempt went, in one order with its `endpoint:state` events.
 * A proxy sees a request only when it arrives, and on a loaded machine that can be tens of ms after
 * a status change the pool had already acted on; the pool's `tracer` option starts an attempt span
 * a few microtasks after the pick, so ordering the two in one sequence needs no time slack.
 */
export function createPickLog(): { log: LogEntry[]; tracer: Tracer; status(endpoint: string, to: string): void } {
  const log: LogEntry[] = []
  const span = { setAttributes: () => span, setAttribute: () => span, setStatus: () => span, end: () => {}, recordException: () => {}, isRecording: () => false }
  const tracer = {
    startSpan(_name: string, options?: { attributes?: Record<string, unknown> }) {
      const endpoint = options?.attributes?.['resilient_rpc.endpoint']
      const method = options?.attributes?.['rpc.method']
      if (typeof endpoint === 'string' && typeof method === 'string') log.push({ seq: log.length, kind: 'pick', endpoint, method })
      return span
    },
  } as unknown as Tracer
  return { log, tracer, status: (endpoint, to) => log.push({ seq: log.length, kind: 'status', endpoint, to }) }
}
