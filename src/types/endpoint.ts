import type { ResilientRpcError } from '../errors/base.js'

export type Strategy = 'least-connections' | 'weighted-round-robin'

export type Tier = 'primary' | 'backup'

export type BreakerState = 'closed' | 'open' | 'half-open'

/**
 * What the pool reports about an endpoint, most important first:
 * - `quarantined`: on another chain; never serves again.
 * - `connecting`: not yet verified (chain id, first head); `down`: failed its heartbeats.
 * - `unauthorized`: answered 401/403; `cooldown`: rate-limited (both time-bound).
 * - `lagging`: more than `maxLag` blocks behind the reference head; `ahead`: more than `maxLag` ahead of
 *   it, unconfirmed by any other endpoint. Neither serves latest-state reads.
 * - `up`: serves everything.
 */
export type EndpointStatus = 'up' | 'lagging' | 'ahead' | 'cooldown' | 'unauthorized' | 'connecting' | 'down' | 'quarantined'

/** Connection-level health, as the heartbeat establishes it. */
export type EndpointHealth = 'connecting' | 'up' | 'down' | 'quarantined'

/** What the latency and outcome window of an endpoint answers (read-only). */
export type LatencySamples = {
  /** 95th percentile latency of the successes in the window (ms), `undefined` without any. */
  p95(): number | undefined
  /** `p95()` recomputed every few samples: cheap enough to ask on every request. */
  recentP95(): number | undefined
  /** Share of failed attempts in the window, 0..1. */
  errorRate(): number
}

/**
 * An endpoint's state as everyone but its owner reads it. `Endpoint` (src/endpoint/endpoint.ts) owns
 * it and alone changes it, through named methods; selection, health, stats and events read this view.
 */
export type EndpointView = {
  readonly id: string
  readonly index: number
  readonly tier: Tier
  readonly weight: number
  /** Connection-level health, as the heartbeat establishes it. */
  readonly health: EndpointHealth
  /** Why the endpoint is not `up`, when its health says so (redacted). */
  readonly healthReason: string | undefined
  /** A time-bound exclusion: `cooldown` after a rate limit, `unauthorized` after 401/403. */
  readonly restriction: 'cooldown' | 'unauthorized' | undefined
  /** Until when (clock ms) the restriction holds. */
  readonly restrictedUntil: number
  readonly restrictionReason: string | undefined
  /** The status last reported in an `endpoint:state` event. */
  readonly status: EndpointStatus
  /** Chain id the endpoint reported at its last check. */
  readonly chainId: bigint | undefined
  /** Highest head block the endpoint is known to have, if any. */
  readonly head: bigint | undefined
  /** When it last answered a request or a ping (clock ms); 0 before it ever did. */
  readonly answeredAt: number
  /**
   * When its head was last seen (clock ms): a heartbeat read it, or an answer showed that block or a
   * higher one. A frozen node's stays current while it answers; a node nobody asks falls behind.
   */
  readonly headAt: number
  /**
   * A block above its known head that it said it does not have ("header not found", `null`): for
   * that block or a later one it is asked only after every other endpoint, until its head reaches it.
   */
  readonly missingFrom: bigint | undefined
  /**
   * Methods the endpoint said it does not serve ("method not found", "not supported"), each until when
   * (clock ms): it is asked for them only after every other endpoint until then. Empty as a rule.
   */
  readonly unsupported: ReadonlyMap<string, number>
  /** When a heartbeat last read its chain id (clock ms). */
  readonly chainCheckedAt: number
  /** Heartbeats in a row that reported a head below the reference head (reorg detection). */
  readonly lowerStreak: number
  /** Whether its head went back while below the reference head: a reorg witness. */
  readonly fellBack: boolean
  /** Failed heartbeats in a row. */
  readonly pingFailures: number
  /** Connection generation: bumped whenever the endpoint goes up or down; work of an older one is void. */
  readonly generation: number
  readonly breaker: BreakerState
  /** A half-open breaker lets one trial request through at a time. */
  readonly trialInFlight: boolean
  /** Attempts in flight now. */
  readonly inFlight: number
  /** Weight after error penalties, in [1, weight] (or `weight` when below 1). */
  readonly effectiveWeight: number
  /** Smoothed latency of attempts and pings (ms), `undefined` before the first answer. */
  readonly latencyEwma: number | undefined
  /** Failed attempts since the last success. */
  readonly consecutiveFailures: number
  /**
   * Its last attempt lost a hedged race (another endpoint answered first). Not a failure — nothing is
   * blamed — but selection ranks it with the endpoints a request already tried, after every other
   * one, until it answers a request or a heartbeat again.
   */
  readonly lostRace: boolean
  /** Bulkhead: attempts the endpoint may have in flight at once; `undefined` for no limit. */
  readonly maxConcurrency: number | undefined
  /** Its `methods` option: which methods it is asked for (`undefined`: every one). */
  readonly methods: { readonly names: ReadonlySet<string>; readonly serves: boolean } | undefined
  /** Rate limit: clock time at which the endpoint has a token for a request (0: it has one). */
  readonly nextTokenAt: number
  /** Attempts sent, and how they ended. */
  readonly requests: number
  readonly successes: number
  readonly failures: number
  readonly lastError: ResilientRpcError | undefined
  readonly samples: LatencySamples
}
