import type { EndpointStats, PoolStats } from '../../src/index.js'

/**
 * The stats of one endpoint as a view receives them: up, closed breaker, idle, at head 100 of chain
 * 31337 with a 12.4 ms latency; `over` changes whatever the test looks at.
 */
export function fakeEndpointStats(endpoint: string, over: Partial<EndpointStats> = {}): EndpointStats {
  return {
    endpoint,
    tier: 'primary',
    status: 'up',
    statusReason: undefined,
    breaker: 'closed',
    chainId: 31337n,
    head: 100n,
    lag: 0n,
    weight: 1,
    effectiveWeight: 1,
    inFlight: 0,
    maxConcurrency: undefined,
    rateLimit: undefined,
    latencyEwma: 12.4,
    latencyP95: 20,
    errorRate: 0,
    consecutiveFailures: 0,
    requests: 10,
    served: 10,
    failures: 0,
    lastError: undefined,
    unsupportedMethods: [],
    ...over,
  }
}

/** A pool snapshot over `endpoints`: chain 31337 at reference head 100, no retry budget; `over` on top. */
export function fakePoolStats(endpoints: readonly EndpointStats[], over: Partial<PoolStats> = {}): PoolStats {
  return { chainId: 31337n, referenceHead: 100n, retryBudget: undefined, endpoints, ...over }
}
