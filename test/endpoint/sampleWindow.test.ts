import { describe, expect, it } from 'vitest'
import { SampleWindow } from '../../src/endpoint/sampleWindow.js'

/** A window of `size` after pushing `samples` in order (`undefined` is a failed attempt). */
function windowOf(samples: Array<number | undefined>, size?: number): SampleWindow {
  const w = new SampleWindow(size)
  for (const s of samples) w.push(s)
  return w
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('SampleWindow', () => {
  describe('p95', () => {
    it.each([
      { name: 'no samples', samples: [], expected: undefined },
      { name: 'only failures', samples: [undefined, undefined], expected: undefined },
      { name: 'a single sample', samples: [42], expected: 42 },
      { name: 'a single sample among failures', samples: [undefined, 7, undefined], expected: 7 },
      { name: '1..100', samples: range(1, 100), expected: 95 },
      { name: '100..1 (order does not matter)', samples: range(1, 100).reverse(), expected: 95 },
      { name: '1..20', samples: range(1, 20), expected: 19 },
      { name: '1..10', samples: range(1, 10), expected: 10 },
      { name: 'two samples', samples: [30, 10], expected: 30 },
      { name: 'sorted numerically, not as strings', samples: [200, 9, 10, ...Array<number>(17).fill(1)], expected: 10 },
      { name: 'zero latency counts as a success', samples: [0], expected: 0 },
      { name: 'failures are not latencies', samples: [...range(1, 20), ...Array<undefined>(80).fill(undefined)], expected: 19 },
    ] as Array<{ name: string; samples: Array<number | undefined>; expected: number | undefined }>)('$name → $expected', ({ samples, expected }) => {
      expect(windowOf(samples).p95()).toBe(expected)
    })
  })

  describe('errorRate', () => {
    it.each([
      { name: 'no samples', samples: [], expected: 0 },
      { name: 'only successes', samples: [1, 2, 3], expected: 0 },
      { name: 'only failures', samples: [undefined, undefined], expected: 1 },
      { name: 'one failure in four', samples: [1, undefined, 3, 4], expected: 0.25 },
      { name: 'a zero latency is a success', samples: [0, undefined], expected: 0.5 },
    ] as Array<{ name: string; samples: Array<number | undefined>; expected: number }>)('$name → $expected', ({ samples, expected }) => {
      expect(windowOf(samples).errorRate()).toBe(expected)
    })
  })

  describe('ring of 4', () => {
    it.each([
      { name: 'not yet full', samples: [10, undefined, 30], p95: 30, errorRate: 1 / 3 },
      { name: 'exactly full', samples: [10, undefined, 30, 40], p95: 40, errorRate: 0.25 },
      { name: 'the oldest success is overwritten', samples: [1_000, 1, 2, 3, 4], p95: 4, errorRate: 0 },
      { name: 'the oldest failure is overwritten', samples: [undefined, 1, 2, 3, 4], p95: 4, errorRate: 0 },
      { name: 'failures overwrite successes', samples: [1, 2, 3, 4, undefined, undefined, undefined], p95: 4, errorRate: 0.75 },
      { name: 'wrapped twice', samples: [...range(1, 9), undefined], p95: 9, errorRate: 0.25 },
      { name: 'only failures left', samples: [5, 6, undefined, undefined, undefined, undefined], p95: undefined, errorRate: 1 },
    ] as Array<{ name: string; samples: Array<number | undefined>; p95: number | undefined; errorRate: number }>)('$name', ({ samples, p95, errorRate }) => {
      const w = windowOf(samples, 4)
      expect(w.p95()).toBe(p95)
      expect(w.errorRate()).toBe(errorRate)
    })
  })

  it('holds 100 samples by default', () => {
    const w = windowOf([...Array<undefined>(100).fill(undefined), ...range(1, 99)])
    expect(w.errorRate()).toBe(0.01)
    expect(w.p95()).toBe(95)
  })
})

describe('recentP95', () => {
  it('does not keep an empty window\'s undefined once samples arrive', () => {
    const w = new SampleWindow(100)
    expect(w.recentP95()).toBeUndefined()
    w.push(40)
    expect(w.recentP95()).toBe(40)
  })
})
