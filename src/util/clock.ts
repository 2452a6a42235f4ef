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

/** Lets a background timer not keep a Node process alive. A no-op in browsers. */
export function unrefTimer(handle: TimerHandle): void {
  ;(handle as { unref?: () => void }).unref?.()
}

/** Undoes `unrefTimer`: the timer keeps a Node process alive again. A no-op in browsers. */
export function refTimer(handle: TimerHandle): void {
  ;(handle as { ref?: () => void }).ref?.()
}
