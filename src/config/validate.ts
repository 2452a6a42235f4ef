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

/** An `AbortSignal` (or `undefined`). */
export function optionalSignal(name: string, value: AbortSignal | undefined): AbortSignal | undefined {
  if (value !== undefined && (value === null || typeof (value as Partial<AbortSignal>).addEventListener !== 'function')) {
    throw new InvalidOptionError(name, 'expected an AbortSignal')
  }
  return value
}

/**
 * A back-off (`backoff`, `webSocket.reconnect`, `retryBackoff`): durations in ms, a growth factor of at
 * least `minFactor`, a jitter share in [0, 1]; missing fields from `defaults`.
 */
export function backoff(name: string, value: BackoffOptions | undefined, defaults: Required<BackoffOptions>, minFactor?: number): Required<BackoffOptions> {
  const b = optionsObject(name, value)
  return {
    initial: duration(`${name}.initial`, b?.initial, defaults.initial, true),
    max: duration(`${name}.max`, b?.max, defaults.max, true),
    factor: positive(`${name}.factor`, b?.factor, defaults.factor, minFactor),
    jitter: fraction(`${name}.jitter`, b?.jitter, defaults.jitter),
  }
}
