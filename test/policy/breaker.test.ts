import { afterEach, describe, expect, it, vi } from 'vitest'
import type { BreakerState } from '../../src/types/endpoint.js'
import { createBreaker, createBreakerWindow, type Breaker } from '../../src/policy/breaker.js'
import { createManualClock } from '../support/manualClock.js'
import { DEFAULT_BREAKER } from '../../src/config/defaults.js'
import type { BreakerOptions } from '../../src/config/policyOptions.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

// The breaker is told outcomes; opossum keeps the window and the state machine. opossum reports some
// transitions after a microtask, so every step below is followed by `settle()`.

const OPTIONS: Required<BreakerOptions> = { errorThresholdPercentage: 50, volumeThreshold: 5, rollingWindow: 10_000, resetTimeout: 5_000 }

let breaker: Breaker | undefined
let transitions: BreakerState[]

function make(options: Partial<BreakerOptions> = {}): Breaker {
  transitions = []
  breaker = createBreaker({ ...OPTIONS, ...options }, (state) => transitions.push(state))
  return breaker
}

const settle = () => vi.advanceTimersByTimeAsync(0)

/** Records a sequence of outcomes, `S` for a success and `F` for a failure, letting opossum settle after each. */
async function record(b: Breaker, outcomes: string): Promise<void> {
  for (const o of outcomes.replace(/\s/g, '')) {
    if (o === 'S') b.recordSuccess()
    else if (o === 'F') b.recordFailure(new Error('boom'))
    else throw new Error(`unknown outcome ${o}`)
    await settle()
  }
}

async function openBreaker(b: Breaker): Promise<void> {
  await record(b, 'FFFFF')
  expect(b.state()).toBe('open')
}

useCheckedFakeTimers()

afterEach(() => {
  breaker?.destroy()
  breaker = undefined
})

describe('createBreaker', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_BREAKER).toEqual({ errorThresholdPercentage: 50, volumeThreshold: 5, rollingWindow: 10_000, resetTimeout: 5_000 })
  })

  it('starts closed without reporting a transition', () => {
    const b = make()
    expect(b.state()).toBe('closed')
    expect(transitions).toEqual([])
  })

  it.each([
    { name: 'four failures stay below the volume threshold', outcomes: 'FFFF', state: 'closed', transitions: [] },
    { name: 'the fifth failure opens it', outcomes: 'FFFFF', state: 'open', transitions: ['open'] },
    { name: '3 of 5 failed (60 %) opens at the fifth outcome', outcomes: 'SSFFF', state: 'open', transitions: ['open'] },
    { name: '3 of 5 failed, the last a failure, opens', outcomes: 'FFSSF', state: 'open', transitions: ['open'] },
    { name: 'a success never opens, even past the volume', outcomes: 'FFFSS', state: 'closed', transitions: [] },
    { name: 'the next failure after that does (4 of 6)', outcomes: 'FFFSSF', state: 'open', transitions: ['open'] },
    { name: 'exactly 50 % does not open', outcomes: 'SSFFSF', state: 'closed', transitions: [] },
    { name: '2 of 5 (40 %) does not open', outcomes: 'SSSFF', state: 'closed', transitions: [] },
    { name: 'many successes dilute failures', outcomes: 'SSSSSSSSSSFFFFFFFFFF', state: 'closed', transitions: [] },
    { name: 'one more failure tips it (11 of 21)', outcomes: 'SSSSSSSSSSFFFFFFFFFFF', state: 'open', transitions: ['open'] },
  ])('$name', async ({ outcomes, state, transitions: expected }) => {
    const b = make()
    await record(b, outcomes)
    expect(b.state()).toBe(state)
    expect(transitions).toEqual(expected)
  })

  it.each([
    { volumeThreshold: 1, outcomes: 'F', state: 'open' },
    { volumeThreshold: 3, outcomes: 'FF', state: 'closed' },
    { volumeThreshold: 3, outcomes: 'FFF', state: 'open' },
    { volumeThreshold: 0, outcomes: 'F', state: 'open' },
  ])('volumeThreshold $volumeThreshold, $outcomes → $state', async ({ volumeThreshold, outcomes, state }) => {
    const b = make({ volumeThreshold })
    await record(b, outcomes)
    expect(b.state()).toBe(state)
  })

  it('honours errorThresholdPercentage', async () => {
    const b = make({ errorThresholdPercentage: 80 })
    await record(b, 'SFFFF')
    expect(b.state()).toBe('closed')
    await record(b, 'FFFF')
    // 8 of 9 failed: 88 % > 80 %.
    expect(b.state()).toBe('open')
  })

  it('goes half-open after resetTimeout, not before', async () => {
    const b = make()
    await openBreaker(b)
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout - 1)
    expect(b.state()).toBe('open')
    await vi.advanceTimersByTimeAsync(1)
    expect(b.state()).toBe('half-open')
    expect(transitions).toEqual(['open', 'half-open'])
  })

  it('a success in half-open closes it', async () => {
    const b = make()
    await openBreaker(b)
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout)
    await record(b, 'S')
    expect(b.state()).toBe('closed')
    expect(transitions).toEqual(['open', 'half-open', 'closed'])
  })

  it('a failure in half-open re-opens it, and the reset timer starts again', async () => {
    const b = make()
    await openBreaker(b)
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout)
    await record(b, 'F')
    expect(b.state()).toBe('open')
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout - 1)
    expect(b.state()).toBe('open')
    await vi.advanceTimersByTimeAsync(1)
    expect(b.state()).toBe('half-open')
    expect(transitions).toEqual(['open', 'half-open', 'open', 'half-open'])
  })

  it('half-open takes one trial: the outcomes after it are ignored', async () => {
    const b = make()
    await openBreaker(b)
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout)
    // Both are handed over in the same tick: the first is the trial.
    b.recordFailure(new Error('trial'))
    b.recordSuccess()
    await settle()
    expect(b.state()).toBe('open')
    expect(transitions).toEqual(['open', 'half-open', 'open'])
  })

  it.each(['S', 'F', 'SSSSS', 'FFFFF'])('outcomes recorded while open (%s) cause no transition', async (outcomes) => {
    const b = make()
    await openBreaker(b)
    await record(b, outcomes)
    expect(b.state()).toBe('open')
    expect(transitions).toEqual(['open'])
    // Nor do they move the reset timer.
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout)
    expect(b.state()).toBe('half-open')
  })

  it.each([
    { name: 'open', prepare: (b: Breaker) => openBreaker(b), transitions: ['open', 'closed'] },
    {
      name: 'half-open',
      prepare: async (b: Breaker) => {
        await openBreaker(b)
        await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout)
      },
      transitions: ['open', 'half-open', 'closed'],
    },
  ])('close() forces a $name breaker closed and cancels its reset timer', async ({ prepare, transitions: expected }) => {
    const b = make()
    await prepare(b)
    b.close()
    expect(b.state()).toBe('closed')
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout * 2)
    expect(b.state()).toBe('closed')
    expect(transitions).toEqual(expected)
  })

  it('close() on a closed breaker reports nothing', () => {
    const b = make()
    b.close()
    expect(transitions).toEqual([])
  })

  it('keeps one interval (the rolling window) while alive, and destroy() stops every timer', async () => {
    const b = make()
    expect(vi.getTimerCount()).toBe(1)
    await openBreaker(b)
    // The window rotation plus the reset timer.
    expect(vi.getTimerCount()).toBe(2)
    b.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('destroy() is idempotent and ignores later outcomes, closes and timers', async () => {
    const b = make()
    await openBreaker(b)
    b.destroy()
    b.destroy()
    await record(b, 'SFFFFFS')
    b.close()
    await vi.advanceTimersByTimeAsync(OPTIONS.resetTimeout * 2)
    expect(transitions).toEqual(['open'])
    expect(b.state()).toBe('open')
    expect(vi.getTimerCount()).toBe(0)
  })

  it.each([
    { name: 'failures just inside the window still count', age: OPTIONS.rollingWindow - 1, state: 'open' },
    { name: 'failures one window old no longer count', age: OPTIONS.rollingWindow, state: 'closed' },
    { name: 'failures much older no longer count', age: OPTIONS.rollingWindow * 3, state: 'closed' },
  ])('rolling window: $name', async ({ age, state }) => {
    const b = make()
    await record(b, 'FFFF')
    await vi.advanceTimersByTimeAsync(age)
    await record(b, 'F')
    expect(b.state()).toBe(state)
  })

  it('successes while closed (counted without a replay through opossum) dilute failures', async () => {
    const b = make()
    await record(b, 'SSSSSSSSSS FFFFFFFFF')
    // 9 of 19 failed: 47 % ≤ 50 %.
    expect(b.state()).toBe('closed')
    await record(b, 'FF')
    // 11 of 21: 52 %.
    expect(b.state()).toBe('open')
  })

  it('rolling window: old successes stop diluting new failures', async () => {
    const b = make()
    await record(b, 'SSSSSSSSSS')
    await vi.advanceTimersByTimeAsync(OPTIONS.rollingWindow)
    await record(b, 'FFFFF')
    expect(b.state()).toBe('open')
  })
})

describe('late outcomes while open', () => {
  it.each([0, 20])('late successes while open (%i) do not dilute the failures that follow', async (late) => {
    vi.useFakeTimers()
    breaker = createBreaker({ errorThresholdPercentage: 50, volumeThreshold: 5, rollingWindow: 10_000, resetTimeout: 1_000 }, () => {})
    const b = breaker
    const step = () => vi.advanceTimersByTimeAsync(0)
    for (let i = 0; i < 5; i++) (b.recordFailure(new Error('down')), await step())
    expect(b.state()).toBe('open')
    for (let i = 0; i < late; i++) (b.recordSuccess(), await step())
    await vi.advanceTimersByTimeAsync(1_000)
    b.recordSuccess()
    await step()
    expect(b.state()).toBe('closed')
    for (let i = 0; i < 5; i++) (b.recordFailure(new Error('down again')), await step())
    expect(b.state()).toBe('open')
  })
})

describe('createBreakerWindow', () => {
  it("rotates the rolling windows of every breaker given it on the injected clock, not on opossum's interval", async () => {
    const clock = createManualClock()
    const window = createBreakerWindow(clock, 10_000)
    const states: BreakerState[][] = [[], []]
    const both = [0, 1].map((i) => createBreaker({ ...OPTIONS, volumeThreshold: 4 }, (s) => states[i]!.push(s), window))
    try {
      // Three failures each, then the whole window passes on the clock: they age out of every breaker.
      for (const b of both) await record(b, 'FFF')
      await clock.advance(10_000)
      for (const b of both) await record(b, 'F')
      expect(both.map((b) => b.state())).toEqual(['closed', 'closed'])
      // Within one window, four failures open each of them.
      for (const b of both) await record(b, 'FFF')
      expect(both.map((b) => b.state())).toEqual(['open', 'open'])
      expect(states).toEqual([['open'], ['open']])
      // Only opossum's reset timer is on the global timers; no interval of its own is left.
      expect(vi.getTimerCount()).toBe(2)
    } finally {
      for (const b of both) b.destroy()
      window.stop()
    }
    expect(clock.pending).toBe(0)
  })
})
