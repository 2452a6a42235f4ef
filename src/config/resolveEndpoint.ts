import { InvalidOptionError } from '../errors/invalidOption.js'
import type { Tier } from '../types/endpoint.js'
import { showJson } from '../util/show.js'
import { ENDPOINT_OPTIONS, METHOD_FILTER_OPTIONS, RATE_LIMIT_OPTIONS } from './optionNames.js'
import { integerOrInfinity, knownKeys, oneOf, positive } from './validate.js'
import type { RateLimitOptions } from './policyOptions.js'
import type { EndpointConfig, ResolvedEndpoint } from './poolOptions.js'

const TIERS: readonly Tier[] = ['primary', 'backup']
// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Resolves and validates `endpoints[index]`: URL, credentials, id, weight, tier, headers and limits. */
export function resolveEndpoint(config: EndpointConfig, index: number): ResolvedEndpoint {
  const path = `endpoints[${index}]`
  const entry = typeof config === 'string' ? { url: config } : config
  if (typeof entry !== 'object' || entry === null) throw new InvalidOptionError(path, 'expected a URL string or an object with a `url`')
  knownKeys(path, entry, ENDPOINT_OPTIONS)
  if (typeof entry.url !== 'string') throw new InvalidOptionError(`${path}.url`, 'expected a string')
  let url: URL
  try {
    url = new URL(entry.url)
  } catch {
    // Never echo the URL: it may hold an API key.
    throw new InvalidOptionError(`${path}.url`, 'not a valid absolute URL')
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new InvalidOptionError(`${path}.url`, `unsupported scheme ${showJson(url.protocol)}; expected http:, https:, ws: or wss:`)
  if (entry.name !== undefined && (typeof entry.name !== 'string' || entry.name.trim() === '')) throw new InvalidOptionError(`${path}.name`, 'expected a non-empty string')
  const weight = positive(`${path}.weight`, entry.weight, 1)
  const tier = oneOf(`${path}.tier`, entry.tier, 'primary', TIERS)
  const headers = validateHeaders(`${path}.headers`, entry.headers)
  // fetch refuses URLs with credentials; send them the way browsers would, as Basic auth.
  if (url.username || url.password) {
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
      headers.Authorization = `Basic ${basicCredentials(url, `${path}.url`)}`
    }
    url.username = ''
    url.password = ''
  }
  const maxConcurrency = integerOrInfinity(`${path}.maxConcurrency`, entry.maxConcurrency, Infinity, 1)
  return {
    id: endpointId(url, index, entry.name),
    url: url.href,
    weight,
    tier,
    headers,
    maxConcurrency: maxConcurrency === Infinity ? undefined : maxConcurrency,
    rateLimit: resolveRateLimit(`${path}.rateLimit`, entry.rateLimit),
    methods: resolveMethods(`${path}.methods`, entry.methods),
  }
}

function resolveMethods(path: string, filter: unknown): ResolvedEndpoint['methods'] {
  if (filter === undefined) return undefined
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new InvalidOptionError(path, 'expected { include: [...] } or { exclude: [...] }')
  knownKeys(path, filter, METHOD_FILTER_OPTIONS)
  const { include, exclude } = filter as { include?: unknown; exclude?: unknown }
  if ((include === undefined) === (exclude === undefined)) throw new InvalidOptionError(path, 'expected exactly one of `include` and `exclude`')
  const key = include !== undefined ? 'include' : 'exclude'
  const list = include ?? exclude
  if (!Array.isArray(list) || list.some((m) => typeof m !== 'string' || m === '')) throw new InvalidOptionError(`${path}.${key}`, 'expected an array of method names')
  return { names: new Set(list as string[]), serves: key === 'include' }
}

function resolveRateLimit(path: string, limit: RateLimitOptions | undefined): Required<RateLimitOptions> | undefined {
  if (limit === undefined) return undefined
  if (typeof limit !== 'object' || limit === null || Array.isArray(limit)) throw new InvalidOptionError(path, 'expected an object { perSecond, burst? }')
  knownKeys(path, limit, RATE_LIMIT_OPTIONS)
  const perSecond = positive(`${path}.perSecond`, limit.perSecond, undefined)
  return { perSecond, burst: positive(`${path}.burst`, limit.burst, Math.max(1, perSecond), 1) }
}

// RFC 7617 with charset UTF-8, so a non-Latin-1 password works instead of making btoa throw.
function basicCredentials(url: URL, path: string): string {
  let decoded: string
  try {
    decoded = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
  } catch {
    throw new InvalidOptionError(path, 'userinfo has a malformed percent-escape')
  }
  let binary = ''
  for (const byte of new TextEncoder().encode(decoded)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

// Seed 002: a mistyped auth header silently became anonymous, rate-limited traffic. Catch what can be caught here.
function validateHeaders(path: string, headers: unknown): Record<string, string> {
  if (headers === undefined) return {}
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new InvalidOptionError(path, 'expected an object of header names to string values')
  const out: Record<string, string> = {}
  for (const [position, [name, value]] of Object.entries(headers).entries()) {
    // Header values are secrets: problems are described, never quoted. A bad name is not quoted
    // either: it is often a pasted "Authorization: Bearer …" line.
    if (!HEADER_NAME.test(name)) throw new InvalidOptionError(`${path}`, `header #${position + 1} has an invalid name (not an RFC 9110 token; did a value end up in the name?)`)
    if (typeof value !== 'string') throw new InvalidOptionError(`${path}.${name}`, `expected a string value, got ${value === null ? 'null' : typeof value}`)
    if (value.trim() === '') throw new InvalidOptionError(`${path}.${name}`, 'value is empty')
    if (/[\r\n\0]/.test(value) || /[^\x20-\x7e\t]/.test(value)) throw new InvalidOptionError(`${path}.${name}`, 'value contains control or non-ASCII characters')
    if (value !== value.trim()) throw new InvalidOptionError(`${path}.${name}`, 'value has leading or trailing whitespace')
    if (name.toLowerCase() === 'authorization' && !/^[A-Za-z][\w-]* +\S/.test(value)) {
      throw new InvalidOptionError(`${path}.${name}`, 'expected "<scheme> <credentials>", e.g. "Bearer <token>"')
    }
    out[name] = value
  }
  return out
}
const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' }

/**
 * The only way an endpoint is ever shown: its `name`, else `scheme://host:port#index`. Never its path,
 * query, userinfo or headers — that is where API keys live.
 */
export function endpointId(url: URL, index: number, name?: string): string {
  if (name !== undefined) return name
  const port = url.port || DEFAULT_PORTS[url.protocol] || ''
  return `${url.protocol}//${url.hostname}${port ? `:${port}` : ''}#${index}`
}
