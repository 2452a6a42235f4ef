import { isResilientRpcError } from '../errors/guard.js'
import type { PoolEvents } from '../types/events.js'
import { systemClock, type Clock } from '../util/clock.js'
import { redactText } from '../util/secrets.js'
import { DEFAULT_LOG_RATE_LIMIT } from '../config/defaults.js'
import { duration, integer } from '../config/validate.js'
import type { LogRateLimit, Logger } from '../config/observabilityOptions.js'

type Level = keyof Logger
type Subscribable = { on<E extends keyof PoolEvents>(event: E, listener: (...args: PoolEvents[E]) => void): unknown; off<E extends keyof PoolEvents>(event: E, listener?: (...args: PoolEvents[E]) => void): unknown }

// Bounds the rate limiter's memory whatever the keys (method names come from callers).
const MAX_KINDS = 1_000
/** An error as logged: code, short message and endpoint id. Never the cause (a fetch error may quote the URL) nor headers. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!isResilientRpcError(error)) return { name: error instanceof Error ? error.name : typeof error }
  return { code: error.code, message: redactText(error.shortMessage), ...(error.endpoint ? { endpoint: error.endpoint } : {}) }
}

/**
 * Per-kind rate limit over fixed windows, without timers (nothing to stop): a message over the limit is
 * counted, and the first message of the kind in a later window carries `suppressed: n`.
 */
class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number; suppressed: number }>()
  constructor(
    readonly max: number,
    readonly interval: number,
    readonly clock: Clock,
  ) {}

  /** `undefined`: drop this message; else how many were dropped since the last one that went out. */
  admit(kind: string): number | undefined {
    const now = this.clock.now()
    let w = this.#windows.get(kind)
    if (w === undefined || now - w.start >= this.interval) {
      const suppressed = w?.suppressed ?? 0
      if (w === undefined && this.#windows.size >= MAX_KINDS) this.#windows.clear()
      w = { start: now, count: 0, suppressed }
      this.#windows.set(kind, w)
    }
    if (w.count >= this.max) {
      w.suppressed++
      return undefined
    }
    w.count++
    const suppressed = w.suppressed
    w.suppressed = 0
    return suppressed
  }
}

/**
 * Logs a pool's state transitions and failures through `logger`, as a subscriber of its events:
 * endpoint status changes, breakers, reconnects, reorgs, the pool becoming ready (or losing every
 * endpoint), failed requests, retries and hedges (debug). Endpoints appear only as redacted ids.
 * Returns a function that unsubscribes.
 */
export function attachLogger(pool: Subscribable, logger: Logger, options: LogRateLimit & { clock?: Clock } = {}): () => void {
  const max = integer('logRateLimit.max', options.max, DEFAULT_LOG_RATE_LIMIT.max, 1)
  // Infinity: one window for ever (no timer waits on it).
  const interval = duration('logRateLimit.interval', options.interval, DEFAULT_LOG_RATE_LIMIT.interval, false, true)
  const limiter = new RateLimiter(max, interval, options.clock ?? systemClock)

  const log = (level: Level, kind: string, obj: Record<string, unknown>, msg: string) => {
    const suppressed = limiter.admit(kind)
    if (suppressed === undefined) return
    try {
      // Called as a method: pino's methods need their `this`.
      logger[level]({ ...obj, ...(suppressed > 0 ? { suppressed } : {}) }, msg)
    } catch {
      // A broken logger must not turn into pool `error` events, which would be logged again.
    }
  }

  // Endpoints last known up, to tell "ready" and "no endpoint left" apart from single changes.
  const statuses = new Map<string, string>()
  let everReady = false
  const upCount = () => [...statuses.values()].filter((s) => s === 'up').length

  const listeners: { [E in keyof PoolEvents]?: (...args: PoolEvents[E]) => void } = {
    'endpoint:state': ({ endpoint, from, to, reason }) => {
      const before = upCount()
      statuses.set(endpoint, to)
      const level: Level = to === 'up' ? 'info' : to === 'connecting' ? 'debug' : 'warn'
      log(level, `endpoint:state|${to}|${endpoint}`, { event: 'endpoint:state', endpoint, from, to, ...(reason ? { reason: describeError(reason) } : {}) }, `endpoint ${to}`)
      const after = upCount()
      if (before === 0 && after > 0) {
        log('info', 'pool:ready', { event: 'pool:ready', endpoints: after, recovered: everReady }, everReady ? 'pool recovered' : 'pool ready')
        everReady = true
      } else if (before > 0 && after === 0) {
        log('error', 'pool:unavailable', { event: 'pool:unavailable' }, 'no endpoint up')
      }
    },
    'circuit:open': ({ endpoint }) => log('warn', `circuit:open|${endpoint}`, { event: 'circuit:open', endpoint }, 'circuit open'),
    'circuit:halfOpen': ({ endpoint }) => log('info', `circuit:halfOpen|${endpoint}`, { event: 'circuit:halfOpen', endpoint }, 'circuit half-open'),
    'circuit:close': ({ endpoint }) => log('info', `circuit:close|${endpoint}`, { event: 'circuit:close', endpoint }, 'circuit closed'),
    'chain:reorg': ({ from, to }) => log('warn', 'chain:reorg', { event: 'chain:reorg', from: String(from), to: String(to) }, 'chain reorg'),
    'chain:adopted': ({ chainId, endpoints }) => log('info', 'chain:adopted', { event: 'chain:adopted', chainId: String(chainId), endpoints }, 'chain id adopted'),
    'chain:conflict': ({ chainId, other }) =>
      log('error', 'chain:conflict', { event: 'chain:conflict', chainId: String(chainId), other: String(other) }, 'endpoints disagree on the chain: serving nothing until chainId is set'),
    'reconnect:attempt': ({ endpoint, attempt, delay }) => log('info', `reconnect:attempt|${endpoint}`, { event: 'reconnect:attempt', endpoint, attempt, delay }, 'reconnecting'),
    'request:retry': ({ method, attempt, endpoint, error, delay }) =>
      log('debug', `request:retry|${endpoint}`, { event: 'request:retry', method, attempt, endpoint, error: describeError(error), delay }, 'request retry'),
    'request:hedge': ({ method, endpoint, hedge, delay }) => log('debug', `request:hedge|${endpoint}`, { event: 'request:hedge', method, endpoint, hedge, delay }, 'request hedged'),
    'request:error': ({ method, error }) =>
      log(
        'warn',
        `request:error|${method}|${error.code}`,
        { event: 'request:error', method, error: describeError(error), attempts: error.attempts.map((a) => ({ endpoint: a.endpoint, code: a.error.code, duration: Math.round(a.duration) })) },
        'request failed',
      ),
    error: (error) => log('error', 'error', { event: 'error', error: describeError(error) }, 'pool event listener threw'),
  }
  for (const [event, listener] of Object.entries(listeners)) pool.on(event as keyof PoolEvents, listener as never)
  return () => {
    for (const [event, listener] of Object.entries(listeners)) pool.off(event as keyof PoolEvents, listener as never)
  }
}
