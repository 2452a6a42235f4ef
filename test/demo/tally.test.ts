import { describe, expect, it } from 'vitest'
import { pending, settled, Tally } from '../../demo/tally.js'
import { AbortedError, NetworkError, TimeoutError } from '../../src/index.js'

describe('demo tally', () => {
  it('counts every start and how each settled; a request still running is pending', async () => {
    const tally = new Tally()
    let release!: () => void
    const stuck = new Promise<void>((r) => (release = r))
    await Promise.all([
      tally.track('read', async () => 1),
      tally.track('read', async () => Promise.reject(new TimeoutError('request', 5))),
      tally.track('confirmed read', async () => Promise.reject(new NetworkError())),
      tally.track('transfer', async () => Promise.reject(new AbortedError())),
    ])
    void tally.track('transfer', () => stuck)
    const t = tally.total()
    expect(t).toEqual({ started: 5, ok: 1, failed: 1, timedOut: 1, aborted: 1 })
    expect([settled(t), pending(t)]).toEqual([4, 1])
    expect([...tally.errors]).toEqual([['TIMEOUT', 1], ['NETWORK', 1]])

    // drain gives up after its time limit, and returns as soon as the last request settles.
    await tally.drain(20)
    expect(pending(tally.total())).toBe(1)
    release()
    await tally.drain(5_000)
    expect(pending(tally.total())).toBe(0)
  })
})
