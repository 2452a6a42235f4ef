import { describe, expect, it } from 'vitest'
import { limitReason } from '../../src/balancer/eligibility.js'
import { selectEndpoint, type Selectable, type SelectContext } from '../../src/balancer/select.js'
import type { Strategy } from '../../src/types/endpoint.js'
import { endpointView as endpoint, NOW } from '../support/views.js'


function ctx(over: Partial<SelectContext> = {}): SelectContext {
  return { strategy: 'least-connections', cursor: 0, tried: [], now: NOW, ...over }
}

/** Id of the picked endpoint, or 'none'. */
function pickId(endpoints: readonly Selectable[], context: SelectContext): string {
  const s = selectEndpoint(endpoints, context)
  return s.kind === 'picked' ? endpoints[s.index]!.id : 'none'
}

describe('selectEndpoint', () => {
  describe('eligibility', () => {
    it.each([
      { name: 'cooldown', over: { restriction: 'cooldown', restrictedUntil: NOW + 1 } },
      { name: 'unauthorized', over: { restriction: 'unauthorized', restrictedUntil: NOW + 1 } },
      { name: 'open breaker', over: { breaker: 'open' } },
      { name: 'half-open with a trial in flight', over: { breaker: 'half-open', trialInFlight: true } },
      { name: 'health connecting', over: { health: 'connecting' } },
      { name: 'health down', over: { health: 'down', healthReason: 'timeout' } },
      { name: 'health quarantined', over: { health: 'quarantined' } },
      { name: 'half-open when trials are heartbeats', over: { breaker: 'half-open' }, context: { requestTrials: false } },
      { name: 'lag behind the reference head', over: { head: 94n }, context: { referenceHead: 100n } },
      { name: 'lead over the reference head', over: { head: 106n }, context: { referenceHead: 100n } },
      { name: 'a head before the pinned block', over: { head: 80n }, context: { referenceHead: 100n, target: { kind: 'number', block: 90n } } },
    ] as Array<{ name: string; over: Partial<Selectable>; context?: Partial<SelectContext> }>)('skips an endpoint in $name', ({ over, context }) => {
      const endpoints = [endpoint('A', over), endpoint('B', { head: 100n })]
      for (const strategy of ['least-connections', 'weighted-round-robin'] as const) {
        expect(pickId(endpoints, ctx({ strategy, ...context }))).toBe('B')
      }
    })

    it.each([
      { name: 'a lagging head for a pinned read it has reached', over: { head: 94n }, context: { referenceHead: 100n, maxLag: 5n, target: { kind: 'number', block: 90n } } },
      { name: 'a lagging head for a read by hash', over: { head: 1n }, context: { referenceHead: 100n, target: { kind: 'hash' } } },
      { name: 'a head within maxLag', over: { head: 95n }, context: { referenceHead: 100n, maxLag: 5n } },
      { name: 'any head while the reference head is unknown', over: { head: 1n }, context: { referenceHead: undefined } },
      { name: 'an unknown head', over: { head: undefined }, context: { referenceHead: 100n } },
      { name: 'a half-open breaker when trials are requests', over: { breaker: 'half-open' }, context: { requestTrials: true } },
    ] as Array<{ name: string; over: Partial<Selectable>; context: Partial<SelectContext> }>)('takes $name', ({ over, context }) => {
      for (const strategy of ['least-connections', 'weighted-round-robin'] as const) {
        expect(pickId([endpoint('A', over), endpoint('B', { head: 100n, inFlight: 1 })], ctx({ strategy, currentWeights: [0, -5], ...context }))).toBe('A')
      }
    })

    it.each([
      { name: 'an expired cooldown', over: { restriction: 'cooldown', restrictedUntil: NOW } },
      { name: 'an expired unauthorized restriction', over: { restriction: 'unauthorized', restrictedUntil: NOW - 5 } },
      { name: 'a half-open breaker with no trial in flight', over: { breaker: 'half-open' } },
    ] as Array<{ name: string; over: Partial<Selectable> }>)('takes an endpoint with $name', ({ over }) => {
      expect(pickId([endpoint('A', over), endpoint('B', { inFlight: 1 })], ctx())).toBe('A')
    })

    it('does not mutate the endpoints', () => {
      const endpoints = [endpoint('A', { effectiveWeight: 3 }), endpoint('B', { breaker: 'open' }), endpoint('C')]
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
        endpoint('A', { restriction: 'cooldown', restrictedUntil: NOW + 3000, restrictionReason: 'rate limited' }),
        endpoint('B', { breaker: 'open' }),
        endpoint('C', { restriction: 'unauthorized', restrictedUntil: NOW + 500, restrictionReason: 'HTTP 403' }),
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
        limited: false,
      })
    })

    it('has no retryAt when no exclusion is time-bound', () => {
      const s = selectEndpoint([endpoint('A', { breaker: 'open' }), endpoint('B', { breaker: 'half-open', trialInFlight: true })], ctx())
      expect(s).toMatchObject({ kind: 'none', retryAt: undefined })
    })

    it('ignores an expired restriction when computing retryAt', () => {
      const s = selectEndpoint([
        endpoint('A', { restriction: 'cooldown', restrictedUntil: NOW - 100, breaker: 'open' }),
        endpoint('B', { restriction: 'cooldown', restrictedUntil: NOW + 700 }),
      ], ctx())
      expect(s).toEqual({
        kind: 'none',
        excluded: [{ endpoint: 'A', reason: 'circuit open' }, { endpoint: 'B', reason: 'cooldown (for 700 ms more)' }],
        retryAt: NOW + 700,
        limited: false,
      })
    })

    it('lists health, trial and lag reasons; none of them is time-bound', () => {
      const endpoints = [
        endpoint('A', { health: 'down', healthReason: 'HTTP 502', restriction: 'cooldown', restrictedUntil: NOW + 100 }),
        endpoint('B', { health: 'quarantined', healthReason: 'chain id 5, expected 1' }),
        endpoint('C', { health: 'connecting' }),
        endpoint('D', { breaker: 'half-open' }),
        endpoint('E', { head: 90n }),
        endpoint('F', { head: 120n }),
      ]
      expect(selectEndpoint(endpoints, ctx({ referenceHead: 100n, maxLag: 5n, requestTrials: false }))).toEqual({
        kind: 'none',
        excluded: [
          { endpoint: 'A', reason: 'down: HTTP 502' },
          { endpoint: 'B', reason: 'quarantined: chain id 5, expected 1' },
          { endpoint: 'C', reason: 'connecting' },
          { endpoint: 'D', reason: 'circuit half-open, waiting for a heartbeat to prove the endpoint' },
          { endpoint: 'E', reason: 'lagging 10 blocks behind the reference head' },
          { endpoint: 'F', reason: '20 blocks ahead of the reference head (unconfirmed)' },
        ],
        retryAt: undefined,
        limited: false,
      })
    })

    it('says none for no endpoints at all', () => {
      expect(selectEndpoint([], ctx())).toEqual({ kind: 'none', excluded: [], retryAt: undefined, limited: false })
    })
  })

  describe('per-endpoint limits', () => {
    it('skips an endpoint at its concurrency limit or without a rate-limit token', () => {
      const endpoints = [
        endpoint('A', { maxConcurrency: 2, inFlight: 2 }),
        endpoint('B', { nextTokenAt: NOW + 40 }),
        endpoint('C', { maxConcurrency: 2, inFlight: 1, nextTokenAt: NOW }),
      ]
      expect(pickId(endpoints, ctx())).toBe('C')
    })

    it('limits come second: a down endpoint is down, not limited; the token time wakes the waiter', () => {
      const endpoints = [
        endpoint('A', { maxConcurrency: 1, inFlight: 1 }),
        endpoint('B', { nextTokenAt: NOW + 40 }),
        endpoint('C', { health: 'down', nextTokenAt: NOW + 10 }),
      ]
      expect(selectEndpoint(endpoints, ctx())).toEqual({
        kind: 'none',
        excluded: [
          { endpoint: 'A', reason: 'at its concurrency limit (1 in flight)' },
          { endpoint: 'B', reason: 'at its rate limit (next token in 40 ms)' },
          { endpoint: 'C', reason: 'down' },
        ],
        retryAt: NOW + 40,
        limited: true,
      })
    })

    it('a picked sequence respects a bulkhead as in-flight counts grow', () => {
      const endpoints = [endpoint('A', { maxConcurrency: 1 }), endpoint('B', { maxConcurrency: 2 })]
      const picks: string[] = []
      for (let i = 0; i < 4; i++) {
        const s = selectEndpoint(endpoints, ctx())
        if (s.kind !== 'picked') {
          picks.push('none')
          continue
        }
        picks.push(endpoints[s.index]!.id)
        endpoints[s.index]!.inFlight++
      }
      expect(picks).toEqual(['A', 'B', 'B', 'none'])
    })

    it('limitReason is undefined without limits', () => {
      expect(limitReason(endpoint('A', { inFlight: 1000 }), NOW)).toBeUndefined()
      expect(limitReason(endpoint('A', { nextTokenAt: NOW }), NOW)).toBeUndefined()
    })
  })

  describe('avoid', () => {
    it('never picks an endpoint the request must avoid, even as the last resort', () => {
      const endpoints = [endpoint('A'), endpoint('B')]
      expect(pickId(endpoints, ctx({ avoid: new Set([0]) }))).toBe('B')
      expect(selectEndpoint(endpoints, ctx({ avoid: new Set([0, 1]) }))).toMatchObject({
        kind: 'none',
        excluded: [
          { endpoint: 'A', reason: 'already asked by this request' },
          { endpoint: 'B', reason: 'already asked by this request' },
        ],
        limited: false,
      })
    })
  })

  describe('lacking', () => {
    it('never picks an endpoint that told the request it lacks its block, even as the last resort, and says why', () => {
      const endpoints = [endpoint('A'), endpoint('B')]
      const pinned = { target: { kind: 'number', block: 16n } } as const
      // B was tried last and A is untried: without `lacking`, A would be preferred.
      expect(pickId(endpoints, ctx({ ...pinned, tried: [1], lacking: new Set([0]) }))).toBe('B')
      expect(selectEndpoint(endpoints, ctx({ ...pinned, lacking: new Set([0, 1]) }))).toMatchObject({
        kind: 'none',
        excluded: [
          { endpoint: 'A', reason: 'lacks block 16 (answered so to this request)' },
          { endpoint: 'B', reason: 'lacks block 16 (answered so to this request)' },
        ],
        retryAt: undefined,
        limited: false,
      })
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
      const openPrimaries = [endpoint('A', { breaker: 'open' }), endpoint('B', { restriction: 'cooldown', restrictedUntil: NOW + 1 }), endpoint('X', { tier: 'backup' })]
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
      expect(selectEndpoint([endpoint('A'), endpoint('B'), endpoint('C')], ctx({ cursor: 2 }))).toEqual({ kind: 'picked', index: 2, cursor: 0, currentWeights: [] })
    })

    it('keeps round-robin position by endpoint index while others are excluded', () => {
      // B is out: cursor 1 must go on to C, not jump back to A.
      const es = [endpoint('A'), endpoint('B', { breaker: 'open' }), endpoint('C'), endpoint('D')]
      expect(selectEndpoint(es, ctx({ cursor: 1 }))).toMatchObject({ kind: 'picked', index: 2, cursor: 3 })
      expect(selectEndpoint(es, ctx({ cursor: 3 }))).toMatchObject({ kind: 'picked', index: 3, cursor: 0 })
      expect(selectEndpoint(es, ctx({ cursor: 0 }))).toMatchObject({ kind: 'picked', index: 0, cursor: 1 })
      // A cursor out of range (the endpoints changed) starts from the first.
      expect(selectEndpoint(es, ctx({ cursor: 4 }))).toMatchObject({ kind: 'picked', index: 0, cursor: 1 })
    })

    it('picks from the best group beyond the 31st endpoint too', () => {
      const es = Array.from({ length: 40 }, (_, i) => endpoint(`E${i}`, { inFlight: 1, tier: i === 35 || i === 38 ? 'primary' : 'backup' }))
      es[38] = endpoint('E38', { inFlight: 0 })
      expect(pickId(es, ctx())).toBe('E38')
      expect(pickId(es, ctx({ tried: [38] }))).toBe('E35')
      expect(pickId(es, ctx({ tried: [38, 35], cursor: 33 }))).toBe('E33')
    })

    it('takes consecutiveFailures, latency and weight into account', () => {
      expect(pickId([endpoint('A', { consecutiveFailures: 1 }), endpoint('B')], ctx())).toBe('B')
      expect(pickId([endpoint('A', { latencyEwma: 300 }), endpoint('B', { latencyEwma: 30 })], ctx())).toBe('B')
      expect(pickId([endpoint('A', { inFlight: 1 }), endpoint('B', { inFlight: 2, weight: 4 })], ctx())).toBe('B')
    })

    it('a request whose answer shows the head (showsHead) goes to the endpoint heard from longest ago, not the fastest', () => {
      const es = [endpoint('A', { latencyEwma: 30, headAt: NOW - 2_000 }), endpoint('B', { latencyEwma: 3, headAt: NOW - 50 })]
      expect(pickId(es, ctx())).toBe('B')
      expect(pickId(es, ctx({ showsHead: true }))).toBe('A')
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
    const currentWeights = es.map(() => 0)
    let cursor = start
    const picks: string[] = []
    for (let k = 0; k < expected.length; k++) {
      const s = selectEndpoint(es, ctx({ strategy, cursor, tried, currentWeights }))
      if (s.kind !== 'picked') throw new Error('expected a pick')
      picks.push(es[s.index]!.id)
      cursor = s.cursor
      for (const [i, w] of s.currentWeights) currentWeights[i] = w
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
    const currentWeights = es.map(() => 0)
    for (let k = 0; k < 14; k++) {
      const s = selectEndpoint(es, ctx({ strategy: 'weighted-round-robin', currentWeights }))
      if (s.kind !== 'picked') throw new Error('expected a pick')
      picks.push(es[s.index]!.id)
      for (const [i, w] of s.currentWeights) currentWeights[i] = w
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
    Object.assign(es[0]!, { restriction: 'cooldown', restrictedUntil: NOW + 1000 })
    step(NOW)
    Object.assign(es[1]!, { breaker: 'open' })
    step(NOW)
    Object.assign(es[2]!, { breaker: 'open' })
    step(NOW)
    step(NOW + 1000)
    expect(picks).toEqual(['A', 'B', 'C', 'none@1000', 'A'])
  })
})

describe('an endpoint that lost a hedged race', () => {
  it('ranks after every other eligible endpoint, whatever its load, and with the tried ones', () => {
    const slow = endpoint('A', { lostRace: true, inFlight: 0 })
    const busy = endpoint('B', { inFlight: 5 })
    expect(pickId([slow, busy], ctx())).toBe('B')
    // Still eligible: with nobody better it serves, before an endpoint this request just tried.
    expect(pickId([slow, busy], ctx({ tried: [1] }))).toBe('A')
    expect(pickId([slow], ctx())).toBe('A')
  })

  it('weighted round-robin also passes it over while others can serve', () => {
    const picks = Array.from({ length: 4 }, () => pickId([endpoint('A', { lostRace: true }), endpoint('B')], ctx({ strategy: 'weighted-round-robin' })))
    expect(picks).toEqual(['B', 'B', 'B', 'B'])
  })
})

describe('an endpoint that said it lacks a block', () => {
  it('is asked for that block or a later one only after the others, and still when nobody else can', () => {
    const behind = endpoint('A', { head: 10n, missingFrom: 11n })
    const busy = endpoint('B', { inFlight: 5 })
    const at = (block: bigint) => ctx({ target: { kind: 'number', block } })
    expect(pickId([behind, busy], at(12n))).toBe('B')
    expect(pickId([behind, busy], ctx({ target: { kind: 'atLeast', block: 11n, pinnable: true } }))).toBe('B')
    // A block it has, or a read of no block, takes it as usual (the least loaded).
    expect(pickId([behind, busy], at(9n))).toBe('A')
    expect(pickId([behind, busy], ctx())).toBe('A')
    expect(pickId([behind], at(12n))).toBe('A')
  })
})
