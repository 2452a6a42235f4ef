import { describe, expect, it } from 'vitest'
import { PHASES } from '../../demo/scenario.js'
import { endpointRows, keyedEndpoints, plainLine, progressLines, renderFrame, stateEventText, type Frame } from '../../demo/view.js'
import { createPool, isResilientRpcError } from '../../src/index.js'
import { waitFor } from '../support/async.js'
import { createFaultProxy } from '../support/faultProxy.js'
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

describe('demo view of a real pool whose endpoints carry keys', () => {
  it('no key (path, query, userinfo, header) shows in the rows, the plain line, the frame, or the event lines, while endpoints fail', async () => {
    // Nothing upstream: every proxy fails on its own, each its own way.
    const proxies = await Promise.all((['http401', 'http500', 'garbage'] as const).map((kind) => createFaultProxy('http://127.0.0.1:1', { mode: { kind } })))
    const pool = createPool({ endpoints: keyedEndpoints(proxies.map((p) => p.url)), heartbeat: { interval: 50, timeout: 300 }, retries: 1, backoff: { initial: 5, max: 10 } })
    const events: string[] = []
    pool.on('endpoint:state', (e) => events.push(stateEventText(e)))
    try {
      const failed = await pool.request('eth_blockNumber', [], { timeout: 500 }).then(
        () => new Error('expected the request to fail'),
        (e: unknown) => e as Error,
      )
      expect(isResilientRpcError(failed)).toBe(true)
      await waitFor(() => pool.stats().endpoints.every((e) => e.lastError !== undefined) && events.length >= 2, 'every endpoint to have failed')
      // The keys did reach the endpoints: the header and userinfo were sent.
      expect(proxies[2]!.lastHeaders()).toMatchObject({ 'x-api-key': 'demo-secret-key-2-header', authorization: `Basic ${Buffer.from('demo:demo-secret-key-2').toString('base64')}` })
      const stats = pool.stats()
      const live: Frame = { ...frame, stats, modes: proxies.map((p) => p.mode()), shares: [undefined, undefined, undefined], events }
      const text = [...renderFrame(live, true), plainLine(live), ...events, failed.message, ...stats.endpoints.flatMap((e) => [e.statusReason ?? '', e.lastError?.message ?? ''])].join('\n')
      expect(events.length).toBeGreaterThan(0)
      for (const p of proxies) expect(text).toContain(`http://127.0.0.1:${p.port}#`)
      expect(text).not.toContain('demo-secret-key')
      expect(text).not.toContain(Buffer.from('demo:demo-secret-key-2').toString('base64'))
    } finally {
      await pool.destroy()
      await Promise.all(proxies.map((p) => p.close()))
    }
  })
})
