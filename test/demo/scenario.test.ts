import { describe, expect, it } from 'vitest'
import { describeMode, PHASES, phaseIndexAt, schedule } from '../../demo/scenario.js'

describe('demo storm scenario', () => {
  it('covers the whole duration with back-to-back phases in order', () => {
    const slots = schedule(40_000)
    expect(slots.map((s) => s.phase.name)).toEqual(['calm', 'hang', 'lag', 'rate limit', 'outage', 'recovery'])
    expect(slots[0]!.start).toBe(0)
    expect(slots.at(-1)!.end).toBe(40_000)
    for (let i = 1; i < slots.length; i++) expect(slots[i]!.start).toBe(slots[i - 1]!.end)
    expect(PHASES.reduce((sum, p) => sum + p.share, 0)).toBeCloseTo(1, 9)
  })

  it('faults one endpoint at a time, then all of them, then none', () => {
    const faulted = PHASES.map((p) => p.modes.filter((m) => m.kind !== 'pass').length)
    expect(faulted).toEqual([0, 1, 1, 1, 3, 0])
  })

  it('names the phase running at a moment, the last one past the end', () => {
    expect([0, 4_799, 4_800, 12_799, 12_800, 39_999, 40_000, 99_000].map((t) => phaseIndexAt(t, 40_000))).toEqual([0, 0, 1, 1, 2, 5, 5, 5])
  })

  it('describes injected faults briefly', () => {
    expect(PHASES.flatMap((p) => p.modes.map(describeMode))).toContain('429 (retry 2s)')
    expect(describeMode({ kind: 'pass' })).toBe('—')
    expect(describeMode({ kind: 'hang' })).toBe('hang')
  })
})
