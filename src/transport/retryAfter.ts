/**
 * Parses an HTTP `Retry-After` header (delta-seconds or an HTTP-date) into milliseconds from `now`.
 * Returns `undefined` when absent or unparseable, so the caller falls back to its own cool-down.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
