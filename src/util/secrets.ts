import { HEX_DATA } from './hex.js'
/**
 * What an endpoint sends that could be a credential, and its removal from text a node sends back.
 * Our own messages only ever name an endpoint by its redacted id; but a node (or a gateway in
 * front of it) may quote the request in its answer — "invalid project id 6f1c…", an HTML page
 * echoing the path — and that text becomes an error message, a JSON.parse error's cause, a log line.
 */

// Shorter pieces are words, not keys ("v3", "rpc", "eth"); replacing them would mangle every message.
const MIN_PATH_SEGMENT = 8
const MIN_SECRET = 4
const REDACTED = '[redacted]'

/** The pieces of a (userinfo-free) URL and its headers that may be secret, longest first. */
export function secretsOf(url: string, headers: Readonly<Record<string, string>> = {}): string[] {
  const found = new Set<string>()
  const add = (piece: string | undefined, min = MIN_SECRET) => {
    if (piece && piece.length >= min) found.add(piece)
  }
  const addDecoded = (piece: string, min?: number) => {
    add(piece, min)
    try {
      add(decodeURIComponent(piece), min)
    } catch {
      // a malformed escape is sent as written, so the raw piece above is what a node could echo
    }
  }
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (parsed) {
    addDecoded(parsed.username)
    addDecoded(parsed.password)
    for (const segment of parsed.pathname.split('/')) addDecoded(segment, MIN_PATH_SEGMENT)
    for (const [, value] of parsed.searchParams) add(value)
    for (const piece of parsed.search.slice(1).split('&')) addDecoded(piece.slice(piece.indexOf('=') + 1))
  }
  for (const value of Object.values(headers)) {
    add(value)
    const [scheme, credential] = value.split(/\s+/, 2)
    if (!credential) continue
    add(credential)
    if (scheme!.toLowerCase() === 'basic') for (const part of decodeBasic(credential)) add(part)
  }
  return [...found].sort((a, b) => b.length - a.length)
}

function decodeBasic(credential: string): string[] {
  try {
    const binary = atob(credential)
    const text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
    const colon = text.indexOf(':')
    return colon < 0 ? [text] : [text.slice(0, colon), text.slice(colon + 1)]
  } catch {
    return []
  }
}

/** Replaces every secret in `text`; `undefined` when there is nothing to hide. */
export function createScrubber(secrets: readonly string[]): ((text: string) => string) | undefined {
  if (secrets.length === 0) return undefined
  return (text) => {
    let out = text
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    return out
  }
}

// A URL anywhere in free text (an error message quoting a request, say): its path and query may hold a key.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi

/** Free text with every URL replaced: endpoints appear only as their redacted ids, in their own fields. */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, '[url]')
}

const TEXT_FIELDS = ['message', 'shortMessage', 'details', 'rpcMessage', 'stack'] as const

/**
 * Removes secrets from an error a node's answer produced, in place (errors are built per attempt,
 * nobody else holds them yet): its texts, a string `data` that is not hex (revert data must stay
 * byte-exact), and the same for its causes and listed attempts. Returns the error.
 */
export function scrubError<E>(error: E, scrub: (text: string) => string, depth = 0): E {
  if (typeof error !== 'object' || error === null || depth > 4) return error
  const target = error as Record<string, unknown>
  for (const field of TEXT_FIELDS) rewrite(target, field, scrub)
  if (typeof target.data === 'string' && !HEX_DATA.test(target.data)) rewrite(target, 'data', scrub)
  // A node's `data` may be an object with prose in it (a gateway's explanation); `toJSON` writes it out.
  else if (typeof target.data === 'object' && target.data !== null) scrubStrings(target.data, scrub, depth + 1)
  scrubError(target.cause, scrub, depth + 1)
  if (Array.isArray(target.attempts)) for (const attempt of target.attempts) scrubError((attempt as { error?: unknown })?.error, scrub, depth + 1)
  return error
}

/** Every string in a parsed JSON value (a node's error `data`), in place; hex stays byte-exact. */
function scrubStrings(value: object, scrub: (text: string) => string, depth: number): void {
  if (depth > 4) return
  const target = value as Record<string, unknown>
  for (const key of Object.keys(target)) {
    const item = target[key]
    if (typeof item === 'string' && !HEX_DATA.test(item)) rewrite(target, key, scrub)
    else if (typeof item === 'object' && item !== null) scrubStrings(item, scrub, depth + 1)
  }
}

function rewrite(target: Record<string, unknown>, field: string, scrub: (text: string) => string): void {
  let value: unknown
  try {
    value = target[field]
  } catch {
    return
  }
  if (typeof value !== 'string') return
  const clean = scrub(value)
  if (clean === value) return
  try {
    Object.defineProperty(target, field, { value: clean, writable: true, configurable: true, enumerable: Object.keys(target).includes(field) })
  } catch {
    // a frozen foreign error: nothing we can do to it, and we built none of those
  }
}
