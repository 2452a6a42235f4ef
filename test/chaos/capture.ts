import { inspect } from 'node:util'
import type { EndpointConfig, Logger, Pool, PoolEvents } from '../../src/index.js'
import type { ChaosNode } from './node.js'

/**
 * Secrets the chaos endpoints carry in every place an API key lives: URL path, query, userinfo and
 * an auth header. None may ever show up in anything the pool lets out.
 */
export const SECRETS = {
  path: 'SECRETPATHKEY9f27c1',
  query: 'SECRETQUERY41d8e0',
  user: 'chaosuser',
  password: 'SECRETPASS7b3e55',
  header: 'SECRETHEADER0c6a9d',
} as const

/** The strings the scan looks for: each secret, and the Basic credential the userinfo turns into. */
export function secretNeedles(): string[] {
  const basic = Buffer.from(`${SECRETS.user}:${SECRETS.password}`).toString('base64')
  return [SECRETS.path, SECRETS.query, SECRETS.password, SECRETS.header, basic, `${SECRETS.user}:`]
}

/**
 * The three chaos endpoints, in the order of `node.http[0]`, `node.http[1]`, `node.ws`, left without
 * names so that their redacted ids are what the pool shows.
 */
export function secretEndpoints(node: ChaosNode): EndpointConfig[] {
  const auth = { Authorization: `Bearer ${SECRETS.header}` }
  const userinfo = node.http[1].url.replace('http://', `http://${SECRETS.user}:${SECRETS.password}@`)
  return [
    { url: `${node.http[0].url}/v3/${SECRETS.path}`, headers: auth },
    `${userinfo}/rpc?apikey=${SECRETS.query}`,
    { url: `${node.ws.url}/ws/${SECRETS.path}?apikey=${SECRETS.query}`, headers: auth },
  ]
}

const POOL_EVENTS: ReadonlyArray<keyof PoolEvents> = [
  'endpoint:state',
  'circuit:open',
  'circuit:halfOpen',
  'circuit:close',
  'chain:reorg',
  'request:hedge',
  'reconnect:attempt',
  'request:retry',
  'subscription:source',
  'request:error',
  'request:done',
  'error',
]

const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))

/** Everything a user could print, scanned for the needles as it is captured (only counts and leaks are kept, so a soak stays flat). */
export type Capture = {
  /** A pino-style logger at the most verbose level, every call kept. */
  logger: Logger
  /** Listens to every pool event; returns the detach function. */
  attach(pool: Pool): () => void
  /** An error as a user would see it: message, JSON, `util.inspect` (stack and cause chain). */
  error(error: unknown): void
  stats(pool: Pool): void
  /** Pieces captured so far, by source. */
  counts(): Record<string, number>
  /** Characters captured so far. */
  chars(): number
  /** Every needle found, with where (source and a short excerpt; the first 20). */
  leaks(): string[]
}

export function createCapture(needles: readonly string[]): Capture {
  const counts: Record<string, number> = {}
  const found: string[] = []
  let chars = 0
  const mask = (excerpt: string) => needles.reduce((t, n) => t.split(n).join(`<secret, ${n.length} chars>`), excerpt)
  const add = (source: string, text: string) => {
    counts[source] = (counts[source] ?? 0) + 1
    chars += text.length
    for (const needle of needles) {
      const at = text.indexOf(needle)
      // The excerpt is cut around the needle and the needle masked: the report must not leak it either.
      if (at >= 0 && found.length < 20) found.push(`${source}: …${mask(text.slice(Math.max(0, at - 80), at + needle.length + 20))}…`)
    }
  }
  const level = (name: string) => (obj: Record<string, unknown>, msg: string) => {
    add(`log.${name}`, `${msg} ${json(obj)} ${inspect(obj, { depth: 6 })}`)
  }
  return {
    logger: { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') },
    attach(pool) {
      const listeners = POOL_EVENTS.map((name) => {
        const listener = (...args: unknown[]) => add(`event.${name}`, `${json(args)} ${inspect(args, { depth: 6 })}`)
        pool.on(name, listener as never)
        return () => pool.off(name, listener as never)
      })
      return () => listeners.forEach((off) => off())
    },
    error(error) {
      const message = error instanceof Error ? error.message : String(error)
      add('error', `${message} ${json(error)} ${inspect(error, { depth: 6 })}`)
    },
    stats(pool) {
      add('stats', json(pool.stats()))
    },
    counts: () => ({ ...counts }),
    chars: () => chars,
    leaks: () => [...found],
  }
}
