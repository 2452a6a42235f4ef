const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
// The three HTTP-date forms of RFC 9110 §5.6.7, all GMT. `Date.parse` is not used: it accepts
// garbage like "-1" or "soon 1" as dates in 2001 and reads asctime as local time.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const RFC_850 = /^[A-Z][a-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const ASCTIME = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

/**
 * Parses an HTTP `Retry-After` header (delta-seconds or an HTTP-date) into milliseconds from `now`.
 * Returns `undefined` when absent or unparseable, so the caller falls back to its own cool-down.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = parseHttpDate(trimmed)
  return date === undefined ? undefined : Math.max(0, date - now)
}

function parseHttpDate(text: string): number | undefined {
  let m = IMF_FIXDATE.exec(text)
  if (m) return utc(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!)
  m = RFC_850.exec(text)
  if (m) {
    // Two-digit years: RFC 9110 says one more than 50 years ahead is in the past century.
    const yy = Number(m[3])
    const year = yy + (yy >= 70 ? 1900 : 2000)
    return utc(String(year), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!)
  }
  m = ASCTIME.exec(text)
  if (m) return utc(m[6]!, m[1]!, m[2]!.trim(), m[3]!, m[4]!, m[5]!)
  return undefined
}

function utc(year: string, month: string, day: string, h: string, min: string, s: string): number | undefined {
  const monthIndex = MONTHS.indexOf(month)
  if (monthIndex < 0) return undefined
  const [d, hh, mm, ss] = [Number(day), Number(h), Number(min), Number(s)]
  if (d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return undefined
  return Date.UTC(Number(year), monthIndex, d, hh, mm, ss)
}
