import { InvalidOptionError } from '../errors/invalidOption.js'

/** One log method of a pino-style logger: a structured object first, then the message. */
export type LogFn = (obj: Record<string, unknown>, msg: string) => void

/** Any pino-style logger (pino, bunyan-compatible wrappers, or four functions). */
export type Logger = { debug: LogFn; info: LogFn; warn: LogFn; error: LogFn }

/** Span attributes as the pool sets them: OpenTelemetry's `Attributes`, without the array values it never uses. */
export type SpanAttributes = Record<string, string | number | boolean | undefined>

/** The parts of an OpenTelemetry `Span` the pool calls; every span a real tracer starts has them. */
export type SpanLike = {
  setAttributes(attributes: SpanAttributes): unknown
  /** `code`: OpenTelemetry's `SpanStatusCode` (1 ok, 2 error). */
  setStatus(status: { code: number; message?: string }): unknown
  end(): void
}

/** An OpenTelemetry `Context`: the immutable map a child span reads its parent from. */
export type TraceContextLike = {
  getValue(key: symbol): unknown
  setValue(key: symbol, value: unknown): TraceContextLike
  deleteValue(key: symbol): TraceContextLike
}

/**
 * The parts of an OpenTelemetry `Tracer` the pool uses: `trace.getTracer(name)` from
 * `@opentelemetry/api` returns one. Spelled out here so that the package's types compile without
 * that optional peer installed.
 */
export type TracerLike = {
  /** `options.kind`: OpenTelemetry's `SpanKind` (2 client). */
  startSpan(name: string, options?: { kind?: number; attributes?: SpanAttributes }, context?: TraceContextLike): SpanLike
}

export type LogRateLimit = {
  /** Messages of one kind (per endpoint where there is one) logged per interval; the rest are counted. @default 10 */
  max?: number
  /** Length of the rate-limit window (ms). @default 60_000 */
  interval?: number
}

/** Validates a `logger` option: an object with the four level methods. */
export function validateLogger(logger: unknown): Logger | undefined {
  if (logger === undefined) return undefined
  if (typeof logger !== 'object' || logger === null) throw new InvalidOptionError('logger', 'expected a pino-style logger ({ debug, info, warn, error })')
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof (logger as Record<string, unknown>)[level] !== 'function') throw new InvalidOptionError(`logger.${level}`, 'expected a function')
  }
  return logger as Logger
}
