import { describe, expect, it } from 'vitest'
import { RangeSize } from '../../src/events/rangeSize.js'

describe('RangeSize', () => {
  it('halves on each refusal down to one block, then says it cannot shrink', () => {
    const r = new RangeSize({ initial: 10 })
    const sizes = [r.size]
    while (r.shrink()) sizes.push(r.size)
    expect(sizes).toEqual([10, 5, 2, 1])
    expect(r.shrink()).toBe(false)
    expect(r.size).toBe(1)
  })

  it('doubles back after `growAfter` full-size successes, never past the initial size', () => {
    const r = new RangeSize({ initial: 8, growAfter: 2 })
    r.shrink()
    r.shrink()
    const trace: number[] = []
    for (let i = 0; i < 8; i++) {
      r.succeeded(r.size)
      trace.push(r.size)
    }
    expect(trace).toEqual([2, 4, 4, 8, 8, 8, 8, 8])
  })

  it('a short range (the end of the backfill) does not count towards growing; a refusal resets the streak', () => {
    const r = new RangeSize({ initial: 8, growAfter: 2 })
    r.shrink()
    r.succeeded(1)
    r.succeeded(1)
    expect(r.size).toBe(4)
    r.succeeded(4)
    r.shrink()
    r.succeeded(2)
    expect(r.size).toBe(2)
    r.succeeded(2)
    expect(r.size).toBe(4)
  })

  it('rejects a bad size', () => {
    expect(() => new RangeSize({ initial: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
    expect(() => new RangeSize({ initial: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
  })
})
