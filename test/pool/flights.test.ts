import { describe, expect, it } from 'vitest'
import { AbortedError, TimeoutError } from '../../src/errors/request.js'
import { Flights } from '../../src/pool/flights.js'

const never = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))

describe('Flights', () => {
  it('callers with the same key board one flight; without a key each gets its own', () => {
    const flights = new Flights<string>(new Set())
    let runs = 0
    const run = (s: AbortSignal) => (runs++, never(s))
    const a = flights.board('k', 'a', run)
    const b = flights.board('k', 'b', run)
    const c = flights.board(undefined, 'c', run)
    const d = flights.board(undefined, 'd', run)
    expect(a).toBe(b)
    expect(c).not.toBe(d)
    expect(runs).toBe(3)
    expect(a.callers).toBe(2)
    for (const f of [a, b, c, d]) flights.leave(f, new AbortedError())
  })

  it("is aborted only when its last caller leaves early, with that caller's reason", async () => {
    const active = new Set<AbortController>()
    const flights = new Flights<string>(active)
    const f = flights.board('k', 'a', never)
    flights.board('k', 'b', never)
    expect(active.size).toBe(1)
    flights.leave(f, new AbortedError())
    expect(f.controller.signal.aborted).toBe(false)
    const deadline = new TimeoutError('request', 100)
    flights.leave(f, deadline)
    expect(f.controller.signal.reason).toBe(deadline)
    await f.promise.catch(() => {})
    expect(active.size).toBe(0)
    // A new caller with the same key starts afresh.
    expect(flights.board('k', 'c', never)).not.toBe(f)
  })

  it('a settled flight is not aborted by callers leaving', async () => {
    const flights = new Flights<string>(new Set())
    const f = flights.board('k', 'a', async () => 42)
    await f.promise
    flights.leave(f, new AbortedError())
    expect(f.controller.signal.aborted).toBe(false)
  })
})
