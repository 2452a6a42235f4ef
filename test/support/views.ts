import type { Selectable } from '../../src/balancer/select.js'

/** The clock time selection tests run at. */
export const NOW = 1_000_000

/** An endpoint's view as selection reads it; the test plays the endpoint's owner and may change it. */
export type ViewFixture = { -readonly [K in keyof Selectable]: Selectable[K] }

/** An up, idle, closed primary endpoint with weight 1, then `over`. */
export function endpointView(id: string, over: Partial<Selectable> = {}): ViewFixture {
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
    headAt: 0,
    missingFrom: undefined,
    unsupported: new Map(),
    breaker: 'closed',
    trialInFlight: false,
    inFlight: 0,
    effectiveWeight: 1,
    latencyEwma: undefined,
    consecutiveFailures: 0,
    lostRace: false,
    maxConcurrency: undefined,
    methods: undefined,
    nextTokenAt: 0,
    ...over,
  }
}
