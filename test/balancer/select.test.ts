import { describe, expect, it } from 'vitest'
import { endpointStatus, exclusionReason, headDistance, limitReason } from '../../src/balancer/eligibility.js'
import { selectEndpoint, type Selectable, type SelectContext } from '../../src/balancer/select.js'
import type { EndpointStatus, Strategy } from '../../src/types/endpoint.js'
import type { BlockTarget } from '../../src/balancer/blockTarget.js'

const NOW = 1_000_000

/** The test plays the endpoint's owner: it may change what selection reads. */
type Fixture = { -readonly [K in keyof Selectable]: Selectable[K] }

function endpoint(id: string, over: Partial<Selectable> = {}): Fixture {
  return {
    id,
    tier: 'primary',
    weight: 1,
    health: 'up',
    healthReason: undefined,
    restriction: undefined,
    restrictedUntil: 0,
    restrictionReason: undefined,
    head: undefined,
    breaker: 'closed',
    trialInFlight: false,
    inFlight: 0,
    effectiveWeight: 1,
    latencyEwma: undefined,
    consecutiveFailures: 0,
    lostRace: false,
    maxConcurrency: undefined,
    nextTokenAt: 0,
    ...over,
  }
}

type ExclusionContext = Parameters<typeof exclusionReason>[2]

function ctx(over: Partial<SelectContext> = {}): SelectContext {
  return { strategy: 'least-connections', cursor: 0, tried: [], now: NOW, ...over }
}

/** Id of the picked endpoint, or 'none'. */
function pickId(endpoints: readonly Selectable[], context: SelectContext): string {
  const s = selectEndpoint(endpoints, context)
  return s.kind === 'picked' ? endpoints[s.index]!.id : 'none'
}

describe('exclusionReason', () => {
  it.each([
    { name: 'up, closed', over: {}, expected: undefined },
    { name: 'cooldown in force', over: { restriction: 'cooldown', restrictedUntil: NOW + 1500, restrictionReason: 'rate limited' }, expected: 'rate limited (for 1500 ms more)' },
    { name: 'cooldown without a reason', over: { restriction: 'cooldown', restrictedUntil: NOW + 1 }, expected: 'cooldown (for 1 ms more)' },
    { name: 'fractional remainder rounds up', over: { restriction: 'cooldown', restrictedUntil: NOW + 0.2 }, expected: 'cooldown (for 1 ms more)' },
    { name: 'cooldown ends at restrictedUntil', over: { restriction: 'cooldown', restrictedUntil: NOW }, expected: undefined },
    { name: 'cooldown over', over: { restriction: 'cooldown', restrictedUntil: NOW - 1 }, expected: undefined },
    { name: 'unauthorized in force', over: { restriction: 'unauthorized', restrictedUntil: NOW + 60_000, restrictionReason: 'HTTP 401' }, expected: 'HTTP 401 (for 60000 ms more)' },
    { name: 'unauthorized without a reason', over: { restriction: 'unauthorized', restrictedUntil: NOW + 10 }, expected: 'unauthorized (for 10 ms more)' },
    { name: 'unauthorized over', over: { restriction: 'unauthorized', restrictedUntil: NOW }, expected: undefined },
    { name: 'open breaker', over: { breaker: 'open' }, expected: 'circuit open' },
    { name: 'half-open, no trial in flight', over: { breaker: 'half-open' }, expected: undefined },
    { name: 'half-open, trial in flight', over: { breaker: 'half-open', trialInFlight: true }, expected: 'circuit half-open, trial request in flight' },
    { name: 'closed with a stale trial flag', over: { breaker: 'closed', trialInFlight: true }, expected: undefined },
    { name: 'cooldown wins over open breaker', over: { restriction: 'cooldown', restrictedUntil: NOW + 5, breaker: 'open' }, expected: 'cooldown (for 5 ms more)' },
    { name: 'open breaker after cooldown ended', over: { restriction: 'cooldown', restrictedUntil: NOW, breaker: 'open' }, expected: 'circuit open' },
    { name: 'connecting, no reason', over: { health: 'connecting' }, expected: 'connecting' },
    { name: 'connecting with a reason', over: { health: 'connecting', healthReason: 'waiting for a second endpoint to confirm the chain id' }, expected: 'connecting: waiting for a second endpoint to confirm the chain id' },
    { name: 'down with a reason', over: { health: 'down', healthReason: 'request timed out' }, expected: 'down: request timed out' },
    { name: 'down, no reason', over: { health: 'down' }, expected: 'down' },
    { name: 'quarantined', over: { health: 'quarantined', healthReason: 'chain id 5, expected 1' }, expected: 'quarantined: chain id 5, expected 1' },
    { name: 'health wins over a restriction in force and an open breaker', over: { health: 'down', healthReason: 'x', restriction: 'cooldown', restrictedUntil: NOW + 5, breaker: 'open' }, expected: 'down: x' },
    { name: 'health wins over lag', over: { health: 'connecting', head: 1n }, context: { referenceHead: 100n }, expected: 'connecting' },
    { name: 'half-open, heartbeat trials, no trial in flight', over: { breaker: 'half-open' }, context: { requestTrials: false }, expected: 'circuit half-open, waiting for a heartbeat to prove the endpoint' },
    { name: 'half-open, heartbeat trials, trial in flight', over: { breaker: 'half-open', trialInFlight: true }, context: { requestTrials: false }, expected: 'circuit half-open, waiting for a heartbeat to prove the endpoint' },
    { name: 'half-open, request trials, no trial in flight', over: { breaker: 'half-open' }, context: { requestTrials: true }, expected: undefined },
    { name: 'closed, heartbeat trials', over: {}, context: { requestTrials: false }, expected: undefined },
    { name: 'restriction wins over heartbeat trials', over: { breaker: 'half-open', restriction: 'unauthorized', restrictedUntil: NOW + 3 }, context: { requestTrials: false }, expected: 'unauthorized (for 3 ms more)' },
    { name: 'open breaker wins over lag', over: { breaker: 'open', head: 1n }, context: { referenceHead: 100n }, expected: 'circuit open' },
  ] as Array<{ name: string; over: Partial<Selectable>; context?: ExclusionContext; expected: string | undefined }>)('$name → $expected', ({ over, context, expected }) => {
    expect(exclusionReason(endpoint('A', over), NOW, context)).toBe(expected)
  })

  describe('lag', () => {
    const LATEST: BlockTarget = { kind: 'latest' }
    const AT_90: BlockTarget = { kind: 'number', block: 90n }
    const HASH: BlockTarget = { kind: 'hash' }
    it.each([
      { name: 'latest, 6 behind', head: 94n, target: LATEST, expected: 'lagging 6 blocks behind the reference head' },
      { name: 'no target (latest), 6 behind', head: 94n, target: undefined, expected: 'lagging 6 blocks behind the reference head' },
      { name: 'latest, exactly maxLag behind', head: 95n, target: LATEST, expected: undefined },
      { name: 'latest, at the reference head', head: 100n, target: LATEST, expected: undefined },
      { name: 'latest, exactly maxLag ahead', head: 105n, target: LATEST, expected: undefined },
      { name: 'latest, 6 ahead', head: 106n, target: LATEST, expected: '6 blocks ahead of the reference head (unconfirmed)' },
      { name: 'no target (latest), 6 ahead', head: 106n, target: undefined, expected: '6 blocks ahead of the reference head (unconfirmed)' },
      { name: 'block 90, lagging head past it', head: 94n, target: AT_90, expected: undefined },
      { name: 'block 90, head exactly at it', head: 90n, target: AT_90, expected: undefined },
      { name: 'block 90, head before it', head: 80n, target: AT_90, expected: 'lagging: at block 80, request needs 90' },
      { name: 'block 90, head 89', head: 89n, target: AT_90, expected: 'lagging: at block 89, request needs 90' },
      { name: 'block 90, far-ahead head', head: 106n, target: AT_90, expected: undefined },
      { name: 'block 90, head unknown', head: undefined, target: AT_90, expected: undefined },
      { name: 'a block past the reference head: newer than any head seen, so anyone keeping up may have it', head: 100n, target: { kind: 'number', block: 200n } as BlockTarget, expected: undefined },
      { name: 'a block past the reference head, from an endpoint lagging behind it', head: 90n, target: { kind: 'number', block: 200n } as BlockTarget, expected: 'lagging 10 blocks behind the reference head' },
      { name: 'a block past the reference head, from an endpoint within maxLag', head: 96n, target: { kind: 'number', block: 101n } as BlockTarget, expected: undefined },
      { name: 'hash, far behind', head: 0n, target: HASH, expected: undefined },
      { name: 'hash, far ahead', head: 1_000n, target: HASH, expected: undefined },
      { name: 'latest, head unknown', head: undefined, target: LATEST, expected: undefined },
    ])('referenceHead 100, maxLag 5: $name → $expected', ({ head, target, expected }) => {
      expect(exclusionReason(endpoint('A', { head }), NOW, { target, referenceHead: 100n, maxLag: 5n })).toBe(expected)
    })

    it.each([
      { name: 'reference head unknown: nobody is behind', head: 0n, context: { maxLag: 0n }, expected: undefined },
      { name: 'reference head unknown: nobody is ahead', head: 10n ** 18n, context: { maxLag: 0n }, expected: undefined },
      { name: 'maxLag defaults to 5: 6 behind', head: 94n, context: { referenceHead: 100n }, expected: 'lagging 6 blocks behind the reference head' },
      { name: 'maxLag defaults to 5: 5 behind', head: 95n, context: { referenceHead: 100n }, expected: undefined },
      { name: 'maxLag 0: 1 behind', head: 99n, context: { referenceHead: 100n, maxLag: 0n }, expected: 'lagging 1 blocks behind the reference head' },
      { name: 'maxLag 0: 1 ahead', head: 101n, context: { referenceHead: 100n, maxLag: 0n }, expected: '1 blocks ahead of the reference head (unconfirmed)' },
      { name: 'maxLag 0: at the head', head: 100n, context: { referenceHead: 100n, maxLag: 0n }, expected: undefined },
      { name: 'no context at all', head: 0n, context: undefined, expected: undefined },
    ] as Array<{ name: string; head: bigint; context?: ExclusionContext; expected: string | undefined }>)('$name', ({ head, context, expected }) => {
      expect(exclusionReason(endpoint('A', { head }), NOW, context)).toBe(expected)
    })
  })
})

describe('headDistance', () => {
  it.each([
    { head: 100n, ref: 100n, expected: 0n },
    { head: 94n, ref: 100n, expected: -6n },
    { head: 106n, ref: 100n, expected: 6n },
    { head: 0n, ref: 2n ** 64n, expected: -(2n ** 64n) },
    { head: undefined, ref: 100n, expected: 0n },
    { head: 100n, ref: undefined, expected: 0n },
    { head: undefined, ref: undefined, expected: 0n },
  ])('headDistance($head, $ref) → $expected', ({ head, ref, expected }) => {
    expect(headDistance(head, ref)).toBe(expected)
  })
})

describe('endpointStatus', () => {
  const COOLDOWN = { restriction: 'cooldown', restrictedUntil: NOW + 1_000 } as const
  const UNAUTHORIZED = { restriction: 'unauthorized', restrictedUntil: NOW + 1_000 } as const
  const EXPIRED = { restriction: 'cooldown', restrictedUntil: NOW } as const
  it.each([
    { name: 'healthy, at the head', over: { head: 100n }, expected: 'up' },
    { name: 'healthy, head unknown', over: {}, expected: 'up' },
    { name: 'connecting', over: { health: 'connecting' }, expected: 'connecting' },
    { name: 'down', over: { health: 'down', healthReason: 'timeout' }, expected: 'down' },
    { name: 'quarantined', over: { health: 'quarantined' }, expected: 'quarantined' },
    { name: 'down beats a cooldown and lag', over: { health: 'down', ...COOLDOWN, head: 1n }, expected: 'down' },
    { name: 'quarantined beats unauthorized', over: { health: 'quarantined', ...UNAUTHORIZED }, expected: 'quarantined' },
    { name: 'connecting beats ahead', over: { health: 'connecting', head: 1_000n }, expected: 'connecting' },
    { name: 'cooldown', over: { ...COOLDOWN }, expected: 'cooldown' },
    { name: 'unauthorized', over: { ...UNAUTHORIZED }, expected: 'unauthorized' },
    { name: 'cooldown beats lagging', over: { ...COOLDOWN, head: 1n }, expected: 'cooldown' },
    { name: 'unauthorized beats ahead', over: { ...UNAUTHORIZED, head: 1_000n }, expected: 'unauthorized' },
    { name: 'expired restriction', over: { ...EXPIRED, head: 100n }, expected: 'up' },
    { name: 'expired restriction, lagging', over: { ...EXPIRED, head: 94n }, expected: 'lagging' },
    { name: '6 behind', over: { head: 94n }, expected: 'lagging' },
    { name: '5 behind', over: { head: 95n }, expected: 'up' },
    { name: '5 ahead', over: { head: 105n }, expected: 'up' },
    { name: '6 ahead', over: { head: 106n }, expected: 'ahead' },
    { name: 'an open breaker is not a status', over: { breaker: 'open', head: 100n }, expected: 'up' },
    { name: 'reference unknown: far behind is up', over: { head: 0n }, referenceHead: undefined, expected: 'up' },
    { name: 'reference unknown: far ahead is up', over: { head: 1_000n }, referenceHead: undefined, expected: 'up' },
    { name: 'maxLag 0: 1 behind', over: { head: 99n }, maxLag: 0n, expected: 'lagging' },
    { name: 'maxLag 0: 1 ahead', over: { head: 101n }, maxLag: 0n, expected: 'ahead' },
    { name: 'maxLag 0: at the head', over: { head: 100n }, maxLag: 0n, expected: 'up' },
  ] as Array<{ name: string; over: Partial<Selectable>; referenceHead?: bigint; maxLag?: bigint; expected: EndpointStatus }>)(
    '$name → $expected',
    (row) => {
      const referenceHead = 'referenceHead' in row ? row.referenceHead : 100n
      expect(endpointStatus(endpoint('A', row.over), NOW, referenceHead, row.maxLag ?? 5n)).toBe(row.expected)
    },
  )
})

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
