import { describe, expect, it } from 'vitest'
import { endpointStatus, exclusionReason, headDistance } from '../../src/balancer/eligibility.js'
import type { Selectable } from '../../src/balancer/select.js'
import type { EndpointStatus } from '../../src/types/endpoint.js'
import type { BlockTarget } from '../../src/balancer/blockTarget.js'
import { endpointView as endpoint, NOW } from '../support/views.js'

type ExclusionContext = Parameters<typeof exclusionReason>[2]

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
