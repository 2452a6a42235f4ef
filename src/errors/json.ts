import { BRAND, type EndpointExclusion, type ErrorCode } from './code.js'
import { redactText } from '../util/secrets.js'
import { show } from '../util/show.js'

/**
 * An error of resilient-rpc as plain JSON (`error.toJSON()`, what `JSON.stringify(error)` writes).
 * Besides the fields below it carries the subclass's own ones (`rpcCode`, `data`, `status`,
 * `retryAfter`, `scope`, `timeout`, `revert`, `rejections`, `answers`, …), bigints as decimal strings.
 */
export type ErrorJson = {
  name: string
  code: ErrorCode
  /** The short message (`shortMessage`): the full `message` only adds what the other fields hold. */
  message: string
  details?: string
  endpoint?: string
  /** This error already appears above this place (an error listed among its own attempts): its fields are not repeated. */
  circular?: true
  /** Nested deeper than errors are followed: its fields are left out. */
  truncated?: true
  excluded?: EndpointExclusion[]
  attempts?: AttemptJson[]
  cause?: ErrorJson | CauseJson
  [field: string]: unknown
}

/** One attempt of a request, as JSON. */
export type AttemptJson = { endpoint: string; duration: number; error: ErrorJson | CauseJson }

/**
 * A cause that is not one of ours: an error of the platform or another library (a system error's
 * `code`, such as `ECONNREFUSED`, kept), or any other thrown value as text. URLs in its message are
 * replaced with `[url]`: a lower layer's message may quote the endpoint's path.
 */
export type CauseJson = { name: string; message: string; code?: string | number; cause?: ErrorJson | CauseJson }

// Deep enough for the deepest real chain (a transaction rejection → its RPC error → its attempts →
// the network error → undici's TypeError → the system error), shallow enough to bound the output.
const MAX_DEPTH = 8
// Fields of the base class, written in a fixed order; everything else an error owns is its subclass's.
const BASE_FIELDS = new Set(['name', 'code', 'shortMessage', 'message', 'details', 'endpoint', 'attempts', 'excluded', 'cause', 'stack'])

type Ours = {
  name: string
  code: ErrorCode
  shortMessage: string
  details?: unknown
  endpoint?: unknown
  attempts?: unknown
  excluded?: unknown
  cause?: unknown
}

function isOurs(value: unknown): value is Ours {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
}

/** `error` as JSON; `path` holds the errors being written above it (cycle detection). Never throws. */
export function errorToJson(error: Ours, path: readonly object[] = []): ErrorJson {
  const json: ErrorJson = { name: text(error.name, 'ResilientRpcError'), code: error.code, message: text(error.shortMessage, '') }
  if (typeof error.details === 'string') json.details = error.details
  if (typeof error.endpoint === 'string') json.endpoint = error.endpoint
  if (path.includes(error)) return { ...json, circular: true }
  if (path.length >= MAX_DEPTH) return { ...json, truncated: true }
  const inner = [...path, error]
  for (const key of safe(() => Object.keys(error), [])) {
    if (BASE_FIELDS.has(key)) continue
    const value = toJsonValue(safe(() => (error as Record<string, unknown>)[key], undefined), inner)
    if (value !== undefined) json[key] = value
  }
  const excluded = safe(() => error.excluded, undefined)
  if (Array.isArray(excluded) && excluded.length > 0) json.excluded = excluded.map((e: EndpointExclusion) => ({ endpoint: text(e?.endpoint, ''), reason: text(e?.reason, '') }))
  const attempts = safe(() => error.attempts, undefined)
  if (Array.isArray(attempts) && attempts.length > 0) {
    json.attempts = attempts.map((a: { endpoint?: unknown; duration?: unknown; error?: unknown }) => ({
      endpoint: text(a?.endpoint, ''),
      duration: typeof a?.duration === 'number' ? a.duration : 0,
      error: anyError(a?.error, inner),
    }))
  }
  const cause = safe(() => error.cause, undefined)
  if (cause !== undefined) json.cause = anyError(cause, inner)
  return json
}

/** Ours as `ErrorJson`, anything else as `CauseJson`. */
function anyError(value: unknown, path: readonly object[]): ErrorJson | CauseJson {
  return isOurs(value) ? errorToJson(value, path) : foreignToJson(value, path)
}

function foreignToJson(value: unknown, path: readonly object[]): CauseJson {
  if (typeof value !== 'object' || value === null) return { name: typeof value, message: redactText(show(value)) }
  const v = value as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown; constructor?: { name?: unknown } }
  const name = safe(() => v.name, undefined)
  const message = safe(() => v.message, undefined)
  const json: CauseJson = {
    name: typeof name === 'string' ? name : text(safe(() => v.constructor?.name, undefined), 'Object'),
    message: typeof message === 'string' ? redactText(message) : '',
  }
  const code = safe(() => v.code, undefined)
  if (typeof code === 'string' || typeof code === 'number') json.code = code
  if (path.includes(value) || path.length >= MAX_DEPTH) return json
  const cause = safe(() => v.cause, undefined)
  if (cause !== undefined) json.cause = anyError(cause, [...path, value])
  return json
}

/**
 * A subclass field as JSON: bigints as decimal strings, errors as JSON, arrays (ethers' `Result`
 * included) and plain objects walked; functions and symbols left out. A value seen above itself is
 * written `"[circular]"`; deeper than the bound, `"[truncated]"`.
 */
function toJsonValue(value: unknown, path: readonly object[]): unknown {
  switch (typeof value) {
    case 'bigint':
      return value.toString()
    case 'string':
    case 'number':
    case 'boolean':
      return value
    case 'object':
      break
    default:
      return undefined
  }
  if (value === null) return null
  if (isOurs(value) || value instanceof Error) return anyError(value, path)
  if (path.includes(value)) return '[circular]'
  if (path.length >= MAX_DEPTH) return '[truncated]'
  const inner = [...path, value]
  if (Array.isArray(value)) return safe(() => Array.from(value, (item: unknown) => toJsonValue(item, inner) ?? null), [])
  if (value instanceof Uint8Array) return `0x${Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('')}`
  const toJSON = safe(() => (value as { toJSON?: unknown }).toJSON, undefined)
  if (typeof toJSON === 'function') return toJsonValue(safe(() => (toJSON as () => unknown).call(value), undefined), inner)
  const out: Record<string, unknown> = {}
  for (const key of safe(() => Object.keys(value), [])) {
    const item = toJsonValue(safe(() => (value as Record<string, unknown>)[key], undefined), inner)
    if (item !== undefined) out[key] = item
  }
  return out
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback
}

/** A getter or a Proxy may throw: serializing an error must not. */
function safe<T, F>(read: () => T, fallback: F): T | F {
  try {
    return read()
  } catch {
    return fallback
  }
}
