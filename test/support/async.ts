import { monitorEventLoopDelay } from 'node:perf_hooks'

/** Captures a promise's outcome without ever leaving a rejection unhandled; `done` resolves when it settles. */
export function start<T>(promise: Promise<T>) {
  const outcome: { value?: T; error?: unknown; settled: boolean } = { settled: false }
  const done = promise.then(
    (value) => Object.assign(outcome, { value, settled: true }),
    (error: unknown) => Object.assign(outcome, { error, settled: true }),
  )
  return { outcome, done }
}

/** Polls `check` on real timers until it holds, or throws after `ms` naming what it waited for. */
export async function waitFor(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Puts fault proxies (HTTP or WebSocket) back to pass-through with zeroed counters, between tests. */
export function resetProxies(...proxies: Array<{ setMode(mode: { kind: 'pass' }): void; resetCounts(): void }>): void {
  for (const p of proxies) {
    p.setMode({ kind: 'pass' })
    p.resetCounts()
  }
}

/**
 * The worst event-loop stall since it started, in ms: on a loaded machine a deadline's timer fires
 * late by that much, and a bound on how long something took grows by it (measured, not guessed).
 */
export function watchStalls(): { max(): number; stop(): void } {
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  return { max: () => loop.max / 1e6, stop: () => loop.disable() }
}
