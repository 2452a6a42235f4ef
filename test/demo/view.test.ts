import { describe, expect, it } from 'vitest'
import { PHASES } from '../../demo/scenario.js'
import { endpointRows, plainLine, progressLines, renderFrame, type Frame } from '../../demo/view.js'
import { fakeEndpointStats, fakePoolStats } from '../support/fakeStats.js'

const stats = fakePoolStats([
  fakeEndpointStats('http://127.0.0.1:1#0', { status: 'down', breaker: 'open', head: 90n, lag: 10n, latencyEwma: undefined }),
  fakeEndpointStats('http://127.0.0.1:2#1', { inFlight: 3 }),
])

const frame: Frame = {
  elapsedMs: 10_000, durationMs: 40_000, phases: PHASES, phaseIndex: 1, stats,
  modes: [{ kind: 'hang' }, { kind: 'pass' }], shares: [0, 1],
  totals: { started: 12, ok: 9, failed: 1, timedOut: 1, aborted: 0 }, events: ['  1.0s  something happened'],
}

describe('demo view', () => {
  it('lays the endpoint table out in aligned columns', () => {
    expect(endpointRows(stats, frame.modes, frame.shares, false)).toEqual([
      'endpoint              injected  state  breaker  head  lag  in-flight  latency  share',
      'http://127.0.0.1:1#0  hang      down   open       90   10          0        –     0%',
      'http://127.0.0.1:2#1  —         up     closed    100    0          3    12 ms   100%',
    ])
  })

  it('aligns coloured cells by their visible width', () => {
    const [header, ...rows] = endpointRows(stats, frame.modes, frame.shares, true).map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))
    expect([header, ...rows]).toEqual(endpointRows(stats, frame.modes, frame.shares, false))
  })

  it('shows progress through the storm and the current phase', () => {
    const [bar, phases, story] = progressLines(frame, false, 8)
    expect(bar).toBe('storm [██░░░░░░] 10.0s / 40s')
    expect(phases).toBe('phase 2/6: calm ›  hang  › lag › rate limit › outage › recovery')
    expect(story).toContain(PHASES[1]!.story)
  })

  it('renders a plain line without ANSI codes, and a frame with totals and events', () => {
    expect(plainLine(frame)).toBe(
      't= 10s phase=hang ok=9 failed=1 timedout=1 inflight=1 | http://127.0.0.1:1#0 down/open head=90 lag=10 inflight=0 share=0% | http://127.0.0.1:2#1 up/closed head=100 lag=0 inflight=3 share=100%',
    )
    const text = renderFrame(frame, false).join('\n')
    expect(text).toContain('requests: 12 started · 9 ok · 1 failed · 1 timed out · 1 in flight')
    expect(text).toContain('something happened')
    expect(text).not.toContain('\x1b[')
  })
})
