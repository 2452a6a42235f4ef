import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nextReferenceHead, REORG_CONFIRMATIONS, type HeadReport, type ReferenceHead, type ReferenceUpdate } from '../../src/health/referenceHead.js'

/** Reports from heads, each with the same lower streak. */
const reports = (heads: bigint[], lowerStreak = 0, fellBack = false): HeadReport[] => heads.map((head) => ({ head, lowerStreak, fellBack }))
const ref = (head: bigint, confirmed = true): ReferenceHead => ({ head, confirmed })
const NONE: ReferenceHead = { head: undefined, confirmed: false }

describe('nextReferenceHead', () => {
  it('needs two confirmations for a reorg', () => {
    expect(REORG_CONFIRMATIONS).toBe(2)
  })

  it.each([
    { name: 'no live endpoint, nothing known', current: NONE, live: [], expected: { head: undefined, confirmed: false } },
    { name: 'no live endpoint keeps a confirmed head', current: ref(100n), live: [], expected: { head: 100n, confirmed: true } },
    { name: 'no live endpoint keeps an unconfirmed head', current: ref(100n, false), live: [], expected: { head: 100n, confirmed: false } },
    { name: 'one live endpoint sets it, unconfirmed', current: NONE, live: reports([50n]), expected: { head: 50n, confirmed: false } },
    { name: 'one live endpoint raises it, unconfirmed', current: ref(100n), live: reports([120n]), expected: { head: 120n, confirmed: false } },
    { name: 'one live endpoint at the head keeps it confirmed', current: ref(100n), live: reports([100n]), expected: { head: 100n, confirmed: true } },
    { name: 'two live endpoints: the lower one', current: NONE, live: reports([100n, 130n]), expected: { head: 100n, confirmed: true } },
    { name: 'two agreeing endpoints', current: NONE, live: reports([100n, 100n]), expected: { head: 100n, confirmed: true } },
    { name: 'a second endpoint confirms the head', current: ref(100n, false), live: reports([100n, 100n]), expected: { head: 100n, confirmed: true } },
    { name: 'a single liar far ahead cannot raise it', current: NONE, live: reports([100n, 101n, 1100n]), expected: { head: 101n, confirmed: true } },
    { name: 'a single liar far ahead, in any order', current: ref(100n), live: reports([1100n, 100n, 101n]), expected: { head: 101n, confirmed: true } },
    { name: 'two endpoints at the top raise it', current: ref(100n), live: reports([90n, 110n, 110n]), expected: { head: 110n, confirmed: true } },
    { name: 'an unchanged head', current: ref(100n), live: reports([100n, 100n]), expected: { head: 100n, confirmed: true } },
    { name: 'a liar that answered first gives way once two agree', current: ref(1100n, false), live: reports([100n, 101n, 1100n]), expected: { head: 101n, confirmed: true, corrected: { from: 1100n, to: 101n } } },
    { name: 'an unconfirmed head gives way to two agreeing lower ones', current: ref(100n, false), live: reports([90n, 90n]), expected: { head: 90n, confirmed: true, corrected: { from: 100n, to: 90n } } },
    { name: 'an unconfirmed head does not give way to one lower endpoint', current: ref(100n, false), live: reports([90n]), expected: { head: 100n, confirmed: false } },
    { name: 'one endpoint lower, long streak', current: ref(100n), live: [{ head: 95n, lowerStreak: 5 }, { head: 100n, lowerStreak: 0 }, { head: 100n, lowerStreak: 0 }], expected: { head: 100n, confirmed: true } },
    { name: 'two of three lower, long streaks', current: ref(100n), live: [{ head: 95n, lowerStreak: 5 }, { head: 96n, lowerStreak: 5 }, { head: 100n, lowerStreak: 0 }], expected: { head: 100n, confirmed: true } },
    { name: 'the only live endpoint lower, streak 1', current: ref(100n), live: reports([95n], 1), expected: { head: 100n, confirmed: true } },
    { name: 'everyone lower, streak 1', current: ref(100n), live: reports([95n, 96n], REORG_CONFIRMATIONS - 1), expected: { head: 100n, confirmed: true } },
    { name: 'everyone lower, one with streak 1', current: ref(100n), live: [{ head: 95n, lowerStreak: 2 }, { head: 96n, lowerStreak: 1 }], expected: { head: 100n, confirmed: true } },
    { name: 'everyone lower, streak 2: reorg', current: ref(100n), live: reports([95n, 96n], REORG_CONFIRMATIONS, true), expected: { head: 95n, confirmed: true, reorg: { from: 100n, to: 95n } } },
    { name: 'everyone lower, long streaks: reorg to the second highest', current: ref(100n), live: reports([90n, 99n, 97n], 7, true), expected: { head: 97n, confirmed: true, reorg: { from: 100n, to: 97n } } },
    { name: 'the only endpoint lower, streak 2: reorg', current: ref(100n), live: reports([98n], 2, true), expected: { head: 98n, confirmed: false, reorg: { from: 100n, to: 98n } } },
    { name: 'everyone lower, streak 2, but nobody fell back (merely behind): no reorg', current: ref(100n), live: reports([95n, 96n], REORG_CONFIRMATIONS), expected: { head: 100n, confirmed: true } },
    { name: 'one witness that fell back is enough', current: ref(100n), live: [{ head: 95n, lowerStreak: 2, fellBack: true }, { head: 90n, lowerStreak: 9, fellBack: false }], expected: { head: 90n, confirmed: true, reorg: { from: 100n, to: 90n } } },
    { name: 'a streak with a head back at the reference', current: ref(100n), live: [{ head: 100n, lowerStreak: 3 }, { head: 99n, lowerStreak: 3 }], expected: { head: 100n, confirmed: true } },
  ] as Array<{ name: string; current: ReferenceHead; live: HeadReport[]; expected: ReferenceUpdate }>)('$name', ({ current, live, expected }) => {
    const before = { ...current }
    expect(nextReferenceHead(current, live)).toStrictEqual(expected)
    expect(current).toEqual(before)
  })

  const head = fc.bigInt({ min: 0n, max: 200n })
  const report = fc.record({ head, lowerStreak: fc.integer({ min: 0, max: 4 }), fellBack: fc.boolean() })
  const start = fc.option(head, { nil: undefined }).chain((h) => (h === undefined ? fc.constant(NONE) : fc.boolean().map((confirmed) => ref(h, confirmed))))

  it('a confirmed head never decreases over updates from two or more endpoints without full agreement', () => {
    // The first report's streak stays below the confirmations a reorg needs, so there is never full agreement.
    const unconfirmed = fc.record({ head, lowerStreak: fc.integer({ min: 0, max: REORG_CONFIRMATIONS - 1 }) })
    const update = fc.tuple(unconfirmed, fc.array(report, { minLength: 1, maxLength: 4 })).map(([first, rest]) => [first, ...rest])
    fc.assert(
      fc.property(fc.option(head, { nil: undefined }), fc.array(update, { minLength: 1, maxLength: 30 }), (h, updates) => {
        let current: ReferenceHead = h === undefined ? NONE : ref(h)
        for (const live of updates) {
          const next = nextReferenceHead(current, live)
          expect(next.reorg).toBeUndefined()
          expect(next.corrected).toBeUndefined()
          expect(next.confirmed).toBe(true)
          if (current.head !== undefined) expect(next.head! >= current.head).toBe(true)
          current = next
        }
      }),
    )
  })

  it('goes down only in a reorg every live endpoint confirmed or when two endpoints correct one\'s word; only a head two endpoints reached raises it', () => {
    fc.assert(
      fc.property(start, fc.array(fc.array(report, { maxLength: 5 }), { minLength: 1, maxLength: 30 }), (first, updates) => {
        let current = first
        for (const live of updates) {
          const next = nextReferenceHead(current, live)
          const from = current.head
          if (live.length === 0) expect(next).toStrictEqual(current)
          if (live.length >= 2) expect(next.confirmed).toBe(true)
          if (from !== undefined && next.head! < from) {
            const lowered = { from, to: next.head }
            if (next.reorg) {
              expect(next.reorg).toEqual(lowered)
              expect(next.corrected).toBeUndefined()
              for (const r of live) expect(r.head < from && r.lowerStreak >= REORG_CONFIRMATIONS).toBe(true)
              expect(live.some((r) => r.fellBack)).toBe(true)
            } else {
              expect(next.corrected).toEqual(lowered)
              expect(current.confirmed).toBe(false)
              expect(next.confirmed).toBe(true)
            }
          } else {
            expect(next.reorg).toBeUndefined()
            expect(next.corrected).toBeUndefined()
          }
          if (next.head !== undefined && (from === undefined || next.head > from)) {
            expect(live.filter((r) => r.head >= next.head!).length).toBeGreaterThanOrEqual(Math.min(2, live.length))
          }
          current = { head: next.head, confirmed: next.confirmed }
        }
      }),
    )
  })
})
