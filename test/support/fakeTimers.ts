import { afterEach, beforeEach, expect, vi } from 'vitest'

/**
 * Fake timers for each test of the file (or of the `describe` it is called in); after each test, not
 * one timer may be left. afterEach hooks registered after this call run before its own, so a file's
 * clean-up (destroy()) comes first. Real timers come back before the check, so one leaking test
 * cannot leave its fake clock to the next.
 */
export function useCheckedFakeTimers(): void {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    const timers = vi.getTimerCount()
    vi.useRealTimers()
    expect(timers, 'timers left running after the test').toBe(0)
  })
}
