import { InvalidOptionError } from '../errors/invalidOption.js'

/** One log method of a pino-style logger: a structured object first, then the message. */
export type LogFn = (obj: Record<string, unknown>, msg: string) => void

/** Any pino-style logger (pino, bunyan-compatible wrappers, or four functions). */
export type Logger = { debug: LogFn; info: LogFn; warn: LogFn; error: LogFn }

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
