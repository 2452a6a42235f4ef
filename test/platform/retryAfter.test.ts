import { describe, expect, it } from 'vitest'
import { parseRetryAfter } from '../../src/platform/retryAfter.js'

// Wed, 21 Oct 2015 07:28:00 GMT
const NOW = Date.UTC(2015, 9, 21, 7, 28, 0)

describe('parseRetryAfter', () => {
  it.each([
    { value: '0', expected: 0 },
    { value: '1', expected: 1_000 },
    { value: '120', expected: 120_000 },
    { value: '86400', expected: 86_400_000 },
    { value: '007', expected: 7_000 },
    { value: '1.5', expected: 1_500 },
    { value: '0.25', expected: 250 },
    { value: '0.0004', expected: 0 },
    { value: '2.0006', expected: 2_001 },
    { value: ' 3 ', expected: 3_000 },
    { value: '\t10\t', expected: 10_000 },
  ])('delta-seconds $value → $expected ms', ({ value, expected }) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected)
  })

  it('reads delta-seconds independently of now', () => {
    expect(parseRetryAfter('5', 0)).toBe(5_000)
    expect(parseRetryAfter('5', NOW + 123_456)).toBe(5_000)
  })

  it.each([
    { name: 'IMF-fixdate 30 s ahead', value: 'Wed, 21 Oct 2015 07:28:30 GMT', expected: 30_000 },
    { name: 'IMF-fixdate 1 h ahead', value: 'Wed, 21 Oct 2015 08:28:00 GMT', expected: 3_600_000 },
    { name: 'IMF-fixdate next day', value: 'Thu, 22 Oct 2015 07:28:00 GMT', expected: 86_400_000 },
    { name: 'obsolete RFC 850 date', value: 'Wednesday, 21-Oct-15 07:28:45 GMT', expected: 45_000 },
    { name: 'surrounding whitespace', value: '  Wed, 21 Oct 2015 07:28:01 GMT  ', expected: 1_000 },
    { name: 'exactly now', value: 'Wed, 21 Oct 2015 07:28:00 GMT', expected: 0 },
    { name: 'one second in the past', value: 'Wed, 21 Oct 2015 07:27:59 GMT', expected: 0 },
    { name: 'years in the past', value: 'Sun, 06 Nov 1994 08:49:37 GMT', expected: 0 },
  ])('HTTP-date, $name → $expected ms', ({ value, expected }) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected)
  })

  it('measures an HTTP-date from the given now', () => {
    const date = 'Wed, 21 Oct 2015 07:29:00 GMT'
    expect(parseRetryAfter(date, NOW)).toBe(60_000)
    expect(parseRetryAfter(date, NOW + 20_000)).toBe(40_000)
    expect(parseRetryAfter(date, NOW + 90_000)).toBe(0)
  })

  it.each([
    { name: 'null (header absent)', value: null },
    { name: 'undefined', value: undefined },
    { name: 'empty', value: '' },
    { name: 'blank', value: '   ' },
    { name: 'a word', value: 'soon' },
    { name: 'a unit after the number', value: '120 seconds' },
    { name: 'exponent notation', value: '1e3' },
    { name: 'hex', value: '0x10' },
    { name: 'a relative phrase', value: 'tomorrow' },
    { name: 'non-ASCII digits', value: '١٢' },
  ])('$name → undefined', ({ value }) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined()
  })
})

describe('parseRetryAfter rejects what is not an HTTP-date', () => {
  // V8's Date.parse reads these as dates in 2001, which would mean "no cool-down at all".
  it.each(['-1', '1,5', 'foo 12', 'soon 1'])('%j → undefined', (value) => {
    expect(parseRetryAfter(value, Date.UTC(2015, 9, 21, 7, 28, 0))).toBeUndefined()
  })

  it('reads an asctime date as GMT whatever the local time zone', () => {
    const tz = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      expect(parseRetryAfter('Wed Oct 21 07:28:30 2015', Date.UTC(2015, 9, 21, 7, 28, 0))).toBe(30_000)
    } finally {
      if (tz === undefined) delete process.env.TZ
      else process.env.TZ = tz
    }
  })
})
