import { InvalidOptionError } from '../errors/invalidOption.js'
import type { BackoffOptions } from './policyOptions.js'
import { MAX_TIMER } from '../util/clock.js'
import { show, showJson } from '../util/show.js'

// The one way options are checked: each validator takes the option's path (`heartbeat.interval`),
// the value and, where the option has one, its default; it returns the value to use or throws
// `InvalidOptionError` worded "expected <what>, got <value>". Values are shown with `show`, which
// never throws; header values and URLs are never passed here (they may be secrets).

/** A duration in ms: > 0 (or >= 0 with `allowZero`), at most MAX_TIMER (or Infinity with `allowInfinity`). */
export function duration(name: string, value: number | undefined, fallback: number, allowZero = false, allowInfinity = false): number {
  const v = value ?? fallback
  // typeof first: comparing a symbol (or an object with a throwing valueOf) throws a TypeError.
  const tooLong = typeof v === 'number' && v > MAX_TIMER && !(allowInfinity && v === Infinity)
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowZero && v === 0) || tooLong) {
    const range = `${allowZero ? '>= 0' : '> 0'} and <= ${MAX_TIMER}${allowInfinity ? ' (or Infinity)' : ''}`
    throw new InvalidOptionError(name, `expected a duration in ms ${range}, got ${show(v)}`)
  }
  return v
}

/** An integer >= `min` (0 unless given). */
export function integer(name: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidOptionError(name, `expected an integer >= ${min}, got ${show(v)}`)
  return v
}

/** An integer >= `min`, or `Infinity` for no bound. */
export function integerOrInfinity(name: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback
  if (v === Infinity) return v
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidOptionError(name, `expected an integer >= ${min} or Infinity, got ${show(v)}`)
  return v
}

/** A whole number as a bigint (block numbers, chain ids): >= 0, or > 0 unless `allowZero`. */
export function bigInteger(name: string, value: number | bigint, allowZero: boolean): bigint {
  const ok = typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))
  if (!ok || BigInt(value) < (allowZero ? 0n : 1n)) throw new InvalidOptionError(name, `expected an integer ${allowZero ? '>= 0' : '> 0'}, got ${show(value)}`)
  return BigInt(value)
}

/** A finite number > 0, or >= `min` when given; `fallback` undefined makes it required. */
export function positive(name: string, value: number | undefined, fallback: number | undefined, min?: number): number {
  const v = value ?? fallback
  const ok = typeof v === 'number' && Number.isFinite(v) && (min === undefined ? v > 0 : v >= min)
  if (!ok) throw new InvalidOptionError(name, `expected a finite number ${min === undefined ? '> 0' : `>= ${min}`}, got ${show(v)}`)
  return v as number
}

/** A number in [0, 1]. */
export function fraction(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new InvalidOptionError(name, `expected a number in [0, 1], got ${show(v)}`)
  return v
}

/** A percentage in [0, 100]. */
export function percentage(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !(v >= 0 && v <= 100)) throw new InvalidOptionError(name, `expected a percentage in [0, 100], got ${show(v)}`)
  return v
}

/** One of `allowed`. */
export function oneOf<T extends string>(name: string, value: T | undefined, fallback: T, allowed: readonly T[]): T {
  const v = value ?? fallback
  if (!allowed.includes(v)) throw new InvalidOptionError(name, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${showJson(v)}`)
  return v
}

export function boolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  const v = value ?? fallback
  if (typeof v !== 'boolean') throw new InvalidOptionError(name, `expected a boolean, got ${show(v)}`)
  return v
}

/** A function, or `undefined` when it is optional and not given. */
export function optionalFunction<F>(name: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(name, `expected a function, got ${show(value)}`)
  return value
}

/** An options object (or `undefined`): not null, not an array. */
export function optionsObject<T extends object>(name: string, value: T | undefined, alternative = ''): T | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new InvalidOptionError(name, `expected an object${alternative}, got ${show(value)}`)
  }
  return value
}

/** An options object (or `undefined`) with none but `names` among its keys. */
export function checkedObject<T extends object>(name: string, value: T | undefined, names: ReadonlySet<string>, alternative = ''): T | undefined {
  const object = optionsObject(name, value, alternative)
  knownKeys(name, object, names)
  return object
}

/**
 * An `AbortSignal` (or `undefined`), judged by what it does, not by its class: `aborted`,
 * `addEventListener` and `removeEventListener` — so a signal of another realm or a polyfill passes,
 * and anything else is refused here rather than failing later, in a timer callback.
 */
export function optionalSignal(name: string, value: AbortSignal | undefined): AbortSignal | undefined {
  if (value === undefined) return value
  const s = value as Partial<AbortSignal> | null
  if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
    throw new InvalidOptionError(name, `expected an AbortSignal (with aborted, addEventListener and removeEventListener), got ${show(value)}`)
  }
  return value
}

/**
 * A back-off (`backoff`, `webSocket.reconnect`, `retryBackoff`): durations in ms, a growth factor of at
 * least `minFactor`, a jitter share in [0, 1]; missing fields from `defaults`.
 */
export function backoff(name: string, value: BackoffOptions | undefined, defaults: Required<BackoffOptions>, names: ReadonlySet<string>, minFactor?: number): Required<BackoffOptions> {
  const b = optionsObject(name, value)
  knownKeys(name, b, names)
  return {
    initial: duration(`${name}.initial`, b?.initial, defaults.initial, true),
    max: duration(`${name}.max`, b?.max, defaults.max, true),
    factor: positive(`${name}.factor`, b?.factor, defaults.factor, minFactor),
    jitter: fraction(`${name}.jitter`, b?.jitter, defaults.jitter),
  }
}

/**
 * The option names of an options type, listed once at run time: the object must name every key of
 * `T` (the compiler checks the list is complete, so a new option cannot be forgotten here).
 */
export function optionNames<T>(names: { readonly [K in keyof Required<T>]: true }): ReadonlySet<string> {
  return new Set(Object.keys(names))
}

/**
 * Refuses a key of `value` that is not an option of its object (a misspelling would otherwise be
 * ignored in silence): `INVALID_OPTION` naming it and the closest valid name. A key whose value is
 * `undefined` counts as absent. `path` is the object's own path (`heartbeat`), or '' at the top level.
 */
export function knownKeys(path: string, value: object | undefined, names: ReadonlySet<string>): void {
  if (value === undefined) return
  for (const key in value) {
    if (names.has(key) || (value as Record<string, unknown>)[key] === undefined) continue
    const name = path === '' ? key : `${path}.${key}`
    const closest = closestName(key, names)
    throw new InvalidOptionError(name, closest === undefined ? `unknown option (the options are ${[...names].join(', ')})` : `unknown option; did you mean \`${closest}\`?`)
  }
}

/** The valid name a misspelled `key` most likely meant: within a third of its length in edits, or one the key starts or ends with. */
export function closestName(key: string, names: ReadonlySet<string>): string | undefined {
  const lower = key.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const name of names) {
    const distance = editDistance(lower, name.toLowerCase())
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3))) return best
  for (const name of names) if (lower.startsWith(name.toLowerCase()) || lower.endsWith(name.toLowerCase())) return name
  return undefined
}

/** Levenshtein distance, with a transposition counted as one edit ("timotu" is one from "timout"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}
