/** Opaque timer handle, as returned by the platform's `setTimeout`. */
export type TimerHandle = ReturnType<typeof globalThis.setTimeout>

/**
 * Time source for every component that waits or measures. Injected so tests can drive time, and
 * so one clock governs every wait of a request.
 */
export type Clock = {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

// Each call reads the globals at call time (not at import), so fake timers installed later still apply.
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
}

/**
 * `clock`'s timers in the shape of the globals, for a library that takes custom timers (p-timeout's
 * `customTimers`), so its waits run on the injected clock too.
 */
export function globalTimersOf(clock: Clock): { setTimeout: typeof globalThis.setTimeout; clearTimeout: typeof globalThis.clearTimeout } {
  return {
    setTimeout: ((fn: () => void, ms?: number) => clock.setTimeout(fn, ms ?? 0)) as typeof globalThis.setTimeout,
    clearTimeout: ((handle: TimerHandle | undefined) => {
      if (handle !== undefined) clock.clearTimeout(handle)
    }) as typeof globalThis.clearTimeout,
  }
}

/** Longest delay timers honour: beyond it Node fires after 1 ms (and warns). */
export const MAX_TIMER = 2_147_483_647

/** `ms` as a delay every timer honours: negative becomes 0, beyond `MAX_TIMER` is cut to it. */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER, Math.max(0, ms))
}

/** Lets a background timer not keep a Node process alive. A no-op in browsers. */
export function unrefTimer(handle: TimerHandle): void {
  ;(handle as { unref?: () => void }).unref?.()
}

/** Undoes `unrefTimer`: the timer keeps a Node process alive again. A no-op in browsers. */
export function refTimer(handle: TimerHandle): void {
  ;(handle as { ref?: () => void }).ref?.()
}
