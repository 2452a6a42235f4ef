import { describe, expect, it } from 'vitest'
import { pickLeastConnections, type LeastConnectionsCandidate } from '../../src/balancer/leastConnections.js'

const NAMES = 'ABCDEFGH'

function candidate(over: Partial<LeastConnectionsCandidate> = {}): LeastConnectionsCandidate {
  return { inFlight: 0, weight: 1, latencyEwma: undefined, consecutiveFailures: 0, ...over }
}

/** Picks `n` times from unchanging candidates, feeding the returned cursor back. */
function sequence(candidates: readonly LeastConnectionsCandidate[], n: number, cursor = 0): string[] {
  const picks: string[] = []
  for (let k = 0; k < n; k++) {
    const pick = pickLeastConnections(candidates, cursor)!
    picks.push(NAMES[pick.index]!)
    cursor = pick.cursor
  }
  return picks
}

describe('pickLeastConnections', () => {
  it('returns undefined for no candidates', () => {
    expect(pickLeastConnections([])).toBeUndefined()
    expect(pickLeastConnections([], 3)).toBeUndefined()
  })

  it('picks the only candidate and wraps the cursor', () => {
    expect(pickLeastConnections([candidate()])).toEqual({ index: 0, cursor: 0 })
    expect(pickLeastConnections([candidate({ inFlight: 9, consecutiveFailures: 3 })], 0)).toEqual({ index: 0, cursor: 0 })
  })

  it.each([
    { name: 'fewest in flight wins', c: [{ inFlight: 2 }, { inFlight: 1 }, { inFlight: 3 }], cursor: 0, expected: 'B' },
    { name: 'fewest in flight wins over the cursor', c: [{ inFlight: 0 }, { inFlight: 1 }, { inFlight: 1 }], cursor: 1, expected: 'A' },
    { name: 'weight scales load: 2/4 < 1/1', c: [{ inFlight: 1, weight: 1 }, { inFlight: 2, weight: 4 }], cursor: 0, expected: 'B' },
    { name: 'weight scales load: 3/2 > 1/1', c: [{ inFlight: 1, weight: 1 }, { inFlight: 3, weight: 2 }], cursor: 0, expected: 'A' },
    { name: 'equal load after weighting ties, cursor decides', c: [{ inFlight: 1, weight: 1 }, { inFlight: 2, weight: 2 }], cursor: 1, expected: 'B' },
    { name: 'lower load beats non-failing', c: [{ inFlight: 1 }, { inFlight: 0, consecutiveFailures: 5 }], cursor: 0, expected: 'B' },
    { name: 'lower load beats lower latency', c: [{ inFlight: 1, latencyEwma: 1 }, { inFlight: 0, latencyEwma: 5_000 }], cursor: 0, expected: 'B' },
    { name: 'tie: non-failing before failing', c: [{ consecutiveFailures: 1 }, {}], cursor: 0, expected: 'B' },
    { name: 'tie: non-failing beats faster failing', c: [{ consecutiveFailures: 2, latencyEwma: 1 }, { latencyEwma: 900 }], cursor: 0, expected: 'B' },
    { name: 'tie: all failing, then latency', c: [{ consecutiveFailures: 2, latencyEwma: 400 }, { consecutiveFailures: 1, latencyEwma: 50 }], cursor: 0, expected: 'B' },
    { name: 'tie: how many failures does not matter', c: [{ consecutiveFailures: 1 }, { consecutiveFailures: 7 }], cursor: 1, expected: 'B' },
    { name: 'tie: lower latency bucket wins', c: [{ latencyEwma: 200 }, { latencyEwma: 100 }, { latencyEwma: 300 }], cursor: 0, expected: 'B' },
    { name: 'tie: undefined latency counts as fastest', c: [{ latencyEwma: 10 }, { latencyEwma: undefined }], cursor: 0, expected: 'B' },
    { name: 'tie: 3 ms and 3.2 ms are the same bucket', c: [{ latencyEwma: 3 }, { latencyEwma: 3.2 }], cursor: 1, expected: 'B' },
    { name: 'tie: 100 ms and 115 ms are the same bucket', c: [{ latencyEwma: 115 }, { latencyEwma: 100 }], cursor: 0, expected: 'A' },
    { name: 'tie: 100 ms vs 130 ms is not a tie', c: [{ latencyEwma: 130 }, { latencyEwma: 100 }], cursor: 0, expected: 'B' },
    { name: 'tie: 0 ms and undefined are the same bucket', c: [{ latencyEwma: 0 }, { latencyEwma: undefined }], cursor: 1, expected: 'B' },
    { name: 'full tie: cursor 0', c: [{}, {}, {}], cursor: 0, expected: 'A' },
    { name: 'full tie: cursor 2', c: [{}, {}, {}], cursor: 2, expected: 'C' },
    { name: 'full tie: cursor past the end wraps', c: [{}, {}, {}], cursor: 4, expected: 'B' },
    { name: 'tie among the best two, cursor skips the worse one', c: [{}, { inFlight: 1 }, {}], cursor: 1, expected: 'C' },
  ])('$name → $expected', ({ c, cursor, expected }) => {
    const pick = pickLeastConnections(c.map(candidate), cursor)!
    expect(NAMES[pick.index]).toBe(expected)
    expect(pick.cursor).toBe((pick.index + 1) % c.length)
  })

  it.each([
    { name: 'equal candidates go round-robin', c: [{}, {}, {}], cursor: 0, expected: 'A B C A B C A' },
    { name: 'round-robin starts at the cursor', c: [{}, {}, {}], cursor: 2, expected: 'C A B C A' },
    { name: 'round-robin only among the least loaded', c: [{}, { inFlight: 1 }, {}, {}], cursor: 0, expected: 'A C D A C D' },
    { name: 'round-robin among the non-failing', c: [{ consecutiveFailures: 1 }, {}, {}], cursor: 0, expected: 'B C B C' },
    { name: 'round-robin within one latency bucket', c: [{ latencyEwma: 100 }, { latencyEwma: 105 }, { latencyEwma: 400 }], cursor: 0, expected: 'A B A B' },
    { name: 'a clearly faster endpoint takes every tie', c: [{ latencyEwma: 100 }, { latencyEwma: 20 }, { latencyEwma: 400 }], cursor: 0, expected: 'B B B' },
  ])('sequence: $name → $expected', ({ c, cursor, expected }) => {
    const picks = expected.split(' ')
    expect(sequence(c.map(candidate), picks.length, cursor)).toEqual(picks)
  })

  it('spreads concurrent requests by in-flight count and weight (A weight 2, B and C weight 1)', () => {
    // Each pick adds a request in flight to the chosen endpoint and none completes.
    const candidates = [candidate({ weight: 2 }), candidate(), candidate()]
    let cursor = 0
    const picks: string[] = []
    for (let k = 0; k < 8; k++) {
      const pick = pickLeastConnections(candidates, cursor)!
      picks.push(NAMES[pick.index]!)
      cursor = pick.cursor
      candidates[pick.index] = { ...candidates[pick.index]!, inFlight: candidates[pick.index]!.inFlight + 1 }
    }
    // A takes half the requests: twice the share of B or C.
    expect(picks).toEqual(['A', 'B', 'C', 'A', 'B', 'C', 'A', 'A'])
  })

  it('does not mutate its input', () => {
    const candidates = [candidate({ inFlight: 2 }), candidate({ latencyEwma: 30, consecutiveFailures: 1 })]
    const copy = structuredClone(candidates)
    expect(pickLeastConnections(Object.freeze(candidates.map((c) => Object.freeze(c))), 1)).toEqual({ index: 1, cursor: 0 })
    expect(candidates).toEqual(copy)
  })

  it('with `include`, picks only among the included candidates, scanning from the cursor, without copying them', () => {
    const cs = [candidate(), candidate({ inFlight: 1 }), candidate(), candidate()]
    // 0 and 2 are out: 3 is idle and next from the cursor; 1 would lose on load anyway.
    expect(pickLeastConnections(cs, 1, (i) => i !== 0 && i !== 2)).toEqual({ index: 3, cursor: 0 })
    expect(pickLeastConnections(cs, 0, (i) => i === 1)).toEqual({ index: 1, cursor: 2 })
    expect(pickLeastConnections(cs, 0, () => false)).toBeUndefined()
  })
  it('byHeadAge: among equally loaded endpoints the one whose head was seen longest ago wins, not the fastest; load and failures still come first', () => {
    // A is fastest and was heard from last; C was heard from longest ago.
    const cs = [candidate({ latencyEwma: 1, headAt: 900 }), candidate({ latencyEwma: 40, headAt: 700 }), candidate({ latencyEwma: 9, headAt: 500 })]
    expect(pickLeastConnections(cs, 0)!.index).toBe(0)
    expect(pickLeastConnections(cs, 0, undefined, true)!.index).toBe(2)
    // Busier, or failing: not picked for being heard from long ago.
    expect(pickLeastConnections([cs[0]!, cs[1]!, { ...cs[2]!, inFlight: 1 }], 0, undefined, true)!.index).toBe(1)
    expect(pickLeastConnections([cs[0]!, cs[1]!, { ...cs[2]!, consecutiveFailures: 1 }], 0, undefined, true)!.index).toBe(1)
  })

  it('byHeadAge: sequential picks whose answers refresh the head take turns, a block time apart or less', () => {
    const cs = [candidate({ latencyEwma: 1, headAt: 0 }), candidate({ latencyEwma: 30, headAt: 0 }), candidate({ latencyEwma: 5, headAt: 0 })]
    const picks: string[] = []
    let cursor = 0
    for (let now = 1; now <= 6; now++) {
      const pick = pickLeastConnections(cs, cursor, undefined, true)!
      picks.push(NAMES[pick.index]!)
      cs[pick.index] = { ...cs[pick.index]!, headAt: now }
      cursor = pick.cursor
    }
    expect(picks.join('')).toBe('ABCABC')
  })
})
