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
