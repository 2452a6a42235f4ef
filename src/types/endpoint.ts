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
