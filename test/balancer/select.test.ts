import { describe, expect, it } from 'vitest'
import { exclusionReason, selectEndpoint, type SelectableEndpoint, type SelectContext, type Strategy } from '../../src/balancer/select.js'

const NOW = 1_000_000

function endpoint(id: string, over: Partial<SelectableEndpoint> = {}): SelectableEndpoint {
  return {
    id,
    tier: 'primary',
    weight: 1,
    status: 'up',
    statusUntil: 0,
    statusReason: undefined,
    breaker: 'closed',
    trialInFlight: false,
    inFlight: 0,
    effectiveWeight: 1,
    currentWeight: 0,
    latencyEwma: undefined,
    consecutiveFailures: 0,
    ...over,
  }
}

function ctx(over: Partial<SelectContext> = {}): SelectContext {
  return { strategy: 'least-connections', cursor: 0, tried: [], now: NOW, ...over }
}

/** Id of the picked endpoint, or 'none'. */
function pickId(endpoints: readonly SelectableEndpoint[], context: SelectContext): string {
  const s = selectEndpoint(endpoints, context)
  return s.kind === 'picked' ? endpoints[s.index]!.id : 'none'
}

describe('exclusionReason', () => {
  it.each([
    { name: 'up, closed', over: {}, expected: undefined },
    { name: 'cooldown in force', over: { status: 'cooldown', statusUntil: NOW + 1500, statusReason: 'rate limited' }, expected: 'rate limited (for 1500 ms more)' },
    { name: 'cooldown without a reason', over: { status: 'cooldown', statusUntil: NOW + 1 }, expected: 'cooldown (for 1 ms more)' },
    { name: 'fractional remainder rounds up', over: { status: 'cooldown', statusUntil: NOW + 0.2 }, expected: 'cooldown (for 1 ms more)' },
    { name: 'cooldown ends at statusUntil', over: { status: 'cooldown', statusUntil: NOW }, expected: undefined },
    { name: 'cooldown over', over: { status: 'cooldown', statusUntil: NOW - 1 }, expected: undefined },
    { name: 'unauthorized in force', over: { status: 'unauthorized', statusUntil: NOW + 60_000, statusReason: 'HTTP 401' }, expected: 'HTTP 401 (for 60000 ms more)' },
    { name: 'unauthorized without a reason', over: { status: 'unauthorized', statusUntil: NOW + 10 }, expected: 'unauthorized (for 10 ms more)' },
    { name: 'unauthorized over', over: { status: 'unauthorized', statusUntil: NOW }, expected: undefined },
    { name: 'open breaker', over: { breaker: 'open' }, expected: 'circuit open' },
    { name: 'half-open, no trial in flight', over: { breaker: 'half-open' }, expected: undefined },
    { name: 'half-open, trial in flight', over: { breaker: 'half-open', trialInFlight: true }, expected: 'circuit half-open, trial request in flight' },
    { name: 'closed with a stale trial flag', over: { breaker: 'closed', trialInFlight: true }, expected: undefined },
    { name: 'cooldown wins over open breaker', over: { status: 'cooldown', statusUntil: NOW + 5, breaker: 'open' }, expected: 'cooldown (for 5 ms more)' },
    { name: 'open breaker after cooldown ended', over: { status: 'cooldown', statusUntil: NOW, breaker: 'open' }, expected: 'circuit open' },
  ] as Array<{ name: string; over: Partial<SelectableEndpoint>; expected: string | undefined }>)('$name → $expected', ({ over, expected }) => {
    expect(exclusionReason(endpoint('A', over), NOW)).toBe(expected)
  })
})

describe('selectEndpoint', () => {
  describe('eligibility', () => {
    it.each([
      { name: 'cooldown', over: { status: 'cooldown', statusUntil: NOW + 1 } },
      { name: 'unauthorized', over: { status: 'unauthorized', statusUntil: NOW + 1 } },
      { name: 'open breaker', over: { breaker: 'open' } },
      { name: 'half-open with a trial in flight', over: { breaker: 'half-open', trialInFlight: true } },
    ] as Array<{ name: string; over: Partial<SelectableEndpoint> }>)('skips an endpoint in $name', ({ over }) => {
      const endpoints = [endpoint('A', over), endpoint('B')]
      for (const strategy of ['least-connections', 'weighted-round-robin'] as const) {
        expect(pickId(endpoints, ctx({ strategy }))).toBe('B')
      }
    })

    it.each([
      { name: 'an expired cooldown', over: { status: 'cooldown', statusUntil: NOW } },
      { name: 'an expired unauthorized status', over: { status: 'unauthorized', statusUntil: NOW - 5 } },
      { name: 'a half-open breaker with no trial in flight', over: { breaker: 'half-open' } },
    ] as Array<{ name: string; over: Partial<SelectableEndpoint> }>)('takes an endpoint with $name', ({ over }) => {
      expect(pickId([endpoint('A', over), endpoint('B', { inFlight: 1 })], ctx())).toBe('A')
    })

    it('does not mutate the endpoints', () => {
      const endpoints = [endpoint('A', { effectiveWeight: 3 }), endpoint('B', { breaker: 'open' }), endpoint('C', { currentWeight: 2 })]
      const copy = structuredClone(endpoints)
      for (const strategy of ['least-connections', 'weighted-round-robin'] as const) {
        selectEndpoint(Object.freeze(endpoints.map((e) => Object.freeze(e))), ctx({ strategy, tried: [0] }))
      }
      expect(endpoints).toEqual(copy)
    })
  })

  describe('none', () => {
    it('lists every endpoint with its reason and gives the earliest end of a cooldown', () => {
      const endpoints = [
        endpoint('A', { status: 'cooldown', statusUntil: NOW + 3000, statusReason: 'rate limited' }),
        endpoint('B', { breaker: 'open' }),
        endpoint('C', { status: 'unauthorized', statusUntil: NOW + 500, statusReason: 'HTTP 403' }),
        endpoint('D', { breaker: 'half-open', trialInFlight: true, tier: 'backup' }),
      ]
      expect(selectEndpoint(endpoints, ctx())).toEqual({
        kind: 'none',
        excluded: [
          { endpoint: 'A', reason: 'rate limited (for 3000 ms more)' },
          { endpoint: 'B', reason: 'circuit open' },
          { endpoint: 'C', reason: 'HTTP 403 (for 500 ms more)' },
          { endpoint: 'D', reason: 'circuit half-open, trial request in flight' },
        ],
        retryAt: NOW + 500,
      })
    })

    it('has no retryAt when no exclusion is time-bound', () => {
      const s = selectEndpoint([endpoint('A', { breaker: 'open' }), endpoint('B', { breaker: 'half-open', trialInFlight: true })], ctx())
      expect(s).toMatchObject({ kind: 'none', retryAt: undefined })
    })

    it('ignores an expired status when computing retryAt', () => {
      const s = selectEndpoint([
        endpoint('A', { status: 'cooldown', statusUntil: NOW - 100, breaker: 'open' }),
        endpoint('B', { status: 'cooldown', statusUntil: NOW + 700 }),
      ], ctx())
      expect(s).toEqual({
        kind: 'none',
        excluded: [{ endpoint: 'A', reason: 'circuit open' }, { endpoint: 'B', reason: 'cooldown (for 700 ms more)' }],
        retryAt: NOW + 700,
      })
    })

    it('says none for no endpoints at all', () => {
      expect(selectEndpoint([], ctx())).toEqual({ kind: 'none', excluded: [], retryAt: undefined })
    })
  })

  describe('preference order', () => {
    // A, B primaries; X, Y backups. Every endpoint is otherwise equal, so only the group decides.
    const endpoints = [endpoint('A'), endpoint('B'), endpoint('X', { tier: 'backup' }), endpoint('Y', { tier: 'backup' })]
    const idx = (id: string) => endpoints.findIndex((e) => e.id === id)

    it.each([
      { tried: '', expected: 'A' },
      { tried: 'A', expected: 'B' },
      { tried: 'B', expected: 'A' },
      { tried: 'A B', expected: 'X' },
      { tried: 'A B X', expected: 'Y' },
      { tried: 'X', expected: 'A' },
      { tried: 'A B X Y', expected: 'A' },
      { tried: 'B A X Y', expected: 'A' },
      { tried: 'A B Y X', expected: 'A' },
      { tried: 'A X B Y', expected: 'A' },
      { tried: 'A A', expected: 'B' },
    ])('tried [$tried] → $expected', ({ tried, expected }) => {
      const t = tried === '' ? [] : tried.split(' ').map(idx)
      for (const strategy of ['least-connections', 'weighted-round-robin'] as const) {
        expect(pickId(endpoints, ctx({ strategy, tried: t }))).toBe(expected)
      }
    })

    it('prefers a tried primary over a tried backup when both are not the last tried', () => {
      expect(pickId(endpoints, ctx({ tried: [idx('X'), idx('Y'), idx('A'), idx('B')] }))).toBe('A')
      expect(pickId(endpoints, ctx({ tried: [idx('A'), idx('X'), idx('Y'), idx('B')] }))).toBe('A')
    })

    it('falls back to the last tried endpoint when it is the only one left', () => {
      expect(pickId([endpoint('A'), endpoint('B', { breaker: 'open' })], ctx({ tried: [0] }))).toBe('A')
      expect(pickId([endpoint('A')], ctx({ tried: [0, 0] }))).toBe('A')
    })

    it('uses backups only when no primary is available', () => {
      const openPrimaries = [endpoint('A', { breaker: 'open' }), endpoint('B', { status: 'cooldown', statusUntil: NOW + 1 }), endpoint('X', { tier: 'backup' })]
      expect(pickId(openPrimaries, ctx())).toBe('X')
      const busyPrimary = [endpoint('X', { tier: 'backup' }), endpoint('A', { inFlight: 50, latencyEwma: 5_000, consecutiveFailures: 3 })]
      expect(pickId(busyPrimary, ctx())).toBe('A')
      expect(pickId(busyPrimary, ctx({ strategy: 'weighted-round-robin' }))).toBe('A')
    })

    it('lets the strategy decide only within the preferred group', () => {
      // B is idle but already tried; A is loaded but untried.
      const es = [endpoint('A', { inFlight: 10 }), endpoint('B')]
      expect(pickId(es, ctx({ tried: [1, 0, 1] }))).toBe('A')
      expect(pickId(es, ctx())).toBe('B')
    })
  })

  describe('least-connections', () => {
    it('returns an endpoint index as the cursor and no weights', () => {
      expect(selectEndpoint([endpoint('A'), endpoint('B'), endpoint('C')], ctx())).toEqual({ kind: 'picked', index: 0, cursor: 1, currentWeights: [] })
      expect(selectEndpoint([endpoint('A'), endpoint('B'), endpoint('C')], ctx({ cursor: 2 }))).toEqual({ kind: 'picked', index: 2, cursor: 3, currentWeights: [] })
    })

    it('keeps round-robin position by endpoint index while others are excluded', () => {
      // B is out: cursor 1 must go on to C, not jump back to A.
      const es = [endpoint('A'), endpoint('B', { breaker: 'open' }), endpoint('C'), endpoint('D')]
      expect(selectEndpoint(es, ctx({ cursor: 1 }))).toMatchObject({ kind: 'picked', index: 2, cursor: 3 })
      expect(selectEndpoint(es, ctx({ cursor: 3 }))).toMatchObject({ kind: 'picked', index: 3, cursor: 4 })
      expect(selectEndpoint(es, ctx({ cursor: 4 }))).toMatchObject({ kind: 'picked', index: 0, cursor: 1 })
    })

    it('takes consecutiveFailures, latency and weight into account', () => {
      expect(pickId([endpoint('A', { consecutiveFailures: 1 }), endpoint('B')], ctx())).toBe('B')
      expect(pickId([endpoint('A', { latencyEwma: 300 }), endpoint('B', { latencyEwma: 30 })], ctx())).toBe('B')
      expect(pickId([endpoint('A', { inFlight: 1 }), endpoint('B', { inFlight: 2, weight: 4 })], ctx())).toBe('B')
    })
  })

  describe('weighted-round-robin', () => {
    it('returns the counters of the chosen group, as [endpointIndex, currentWeight], and leaves the cursor alone', () => {
      const es = [endpoint('A', { effectiveWeight: 5 }), endpoint('B', { breaker: 'open' }), endpoint('C'), endpoint('D', { tier: 'backup' })]
      expect(selectEndpoint(es, ctx({ strategy: 'weighted-round-robin', cursor: 7 }))).toEqual({
        kind: 'picked',
        index: 0,
        cursor: 7,
        currentWeights: [[0, -1], [2, 1]],
      })
    })

    it('uses effectiveWeight, not the configured weight', () => {
      const es = [endpoint('A', { weight: 10, effectiveWeight: 1 }), endpoint('B', { weight: 1, effectiveWeight: 3 })]
      expect(selectEndpoint(es, ctx({ strategy: 'weighted-round-robin' }))).toMatchObject({ index: 1, currentWeights: [[0, 1], [1, -1]] })
    })
  })

  it.each([
    {
      name: 'least-connections, each attempt fails',
      strategy: 'least-connections' as Strategy,
      weights: [1, 1, 1],
      expected: ['A', 'B', 'C', 'A', 'B', 'C'],
    },
    {
      name: 'least-connections from cursor 2, each attempt fails',
      strategy: 'least-connections' as Strategy,
      cursor: 2,
      weights: [1, 1, 1],
      expected: ['C', 'A', 'B', 'C', 'A', 'B'],
    },
    {
      // Among tried endpoints the smooth-WRR counters decide, so the order differs from the first pass.
      name: 'weighted-round-robin, each attempt fails',
      strategy: 'weighted-round-robin' as Strategy,
      weights: [1, 1, 1],
      expected: ['A', 'B', 'C', 'B', 'C', 'A'],
    },
    {
      name: 'weighted-round-robin 5:1:1, each attempt fails',
      strategy: 'weighted-round-robin' as Strategy,
      weights: [5, 1, 1],
      expected: ['A', 'B', 'C', 'A', 'C', 'B'],
    },
  ] as Array<{ name: string; strategy: Strategy; cursor?: number; weights: number[]; expected: string[] }>)('simulated request: $name → $expected', ({ strategy, cursor: start = 0, weights, expected }) => {
    // One request retried across A, B, C: every attempt fails, so the failed endpoint is marked failing
    // and the pool stores the cursor and counters selection hands back.
    const es = weights.map((w, i) => endpoint('ABC'[i]!, { weight: w, effectiveWeight: w }))
    const tried: number[] = []
    let cursor = start
    const picks: string[] = []
    for (let k = 0; k < expected.length; k++) {
      const s = selectEndpoint(es, ctx({ strategy, cursor, tried }))
      if (s.kind !== 'picked') throw new Error('expected a pick')
      picks.push(es[s.index]!.id)
      cursor = s.cursor
      for (const [i, w] of s.currentWeights) es[i]!.currentWeight = w
      es[s.index]!.consecutiveFailures++
      tried.push(s.index)
    }
    expect(picks).toEqual(expected)
    // Never the endpoint just tried while another one is available.
    for (let k = 1; k < picks.length; k++) expect(picks[k]).not.toBe(picks[k - 1])
  })

  it('simulated requests: least-connections spreads sequential successful requests round-robin', () => {
    const es = [endpoint('A'), endpoint('B'), endpoint('C')]
    let cursor = 0
    const picks: string[] = []
    for (let k = 0; k < 7; k++) {
      const s = selectEndpoint(es, ctx({ cursor }))
      if (s.kind !== 'picked') throw new Error('expected a pick')
      picks.push(es[s.index]!.id)
      cursor = s.cursor
    }
    expect(picks).toEqual(['A', 'B', 'C', 'A', 'B', 'C', 'A'])
  })

  it('simulated requests: weighted-round-robin 5:1:1 across sequential requests', () => {
    const es = [endpoint('A', { effectiveWeight: 5 }), endpoint('B'), endpoint('C')]
    const picks: string[] = []
    for (let k = 0; k < 14; k++) {
      const s = selectEndpoint(es, ctx({ strategy: 'weighted-round-robin' }))
      if (s.kind !== 'picked') throw new Error('expected a pick')
      picks.push(es[s.index]!.id)
      for (const [i, w] of s.currentWeights) es[i]!.currentWeight = w
    }
    expect(picks.join(' ')).toBe('A A B A C A A A A B A C A A')
  })

  it('simulated request: a failed endpoint that enters cooldown is skipped, then A is retried last', () => {
    // A fails and is rate limited for 1 s; B fails; C fails; only A (cooling down) and B, C (tried) remain.
    const es = [endpoint('A'), endpoint('B'), endpoint('C')]
    const tried: number[] = []
    let cursor = 0
    const picks: string[] = []
    const step = (now: number) => {
      const s = selectEndpoint(es, ctx({ cursor, tried, now }))
      if (s.kind !== 'picked') return picks.push(`none@${s.retryAt! - NOW}`)
      picks.push(es[s.index]!.id)
      cursor = s.cursor
      tried.push(s.index)
      return undefined
    }
    step(NOW)
    Object.assign(es[0]!, { status: 'cooldown', statusUntil: NOW + 1000 })
    step(NOW)
    Object.assign(es[1]!, { breaker: 'open' })
    step(NOW)
    Object.assign(es[2]!, { breaker: 'open' })
    step(NOW)
    step(NOW + 1000)
    expect(picks).toEqual(['A', 'B', 'C', 'none@1000', 'A'])
  })
})
