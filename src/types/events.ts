import type { ResilientRpcError } from '../errors/base.js'
import type { EndpointStatus } from './endpoint.js'

/**
 * Events a pool emits, for observation only: nothing inside the pool depends on a listener. Every
 * `endpoint` is the redacted id. Listeners that throw are isolated and reported as `error` events.
 */
export type PoolEvents = {
  /** An endpoint's health status changed. */
  'endpoint:state': [e: { endpoint: string; from: EndpointStatus; to: EndpointStatus; reason?: ResilientRpcError }]
  /** An endpoint's breaker opened (too many failures), went half-open (one trial allowed) or closed. */
  'circuit:open': [e: { endpoint: string }]
  'circuit:halfOpen': [e: { endpoint: string }]
  'circuit:close': [e: { endpoint: string }]
  /**
   * Without a configured `chainId`, the pool settled on the chain `endpoints` reported: two agreeing,
   * the only endpoint of the pool, or the one that answered alone within a second. It never switches
   * chains afterwards: an endpoint on another chain is quarantined.
   */
  'chain:adopted': [e: { chainId: bigint; endpoints: string[] }]
  /**
   * Endpoints on `other` came to outnumber those on the adopted `chainId`: which chain the user meant is
   * in doubt, so the pool serves nothing (`CHAIN_MISMATCH`) until it is created with `chainId`.
   */
  'chain:conflict': [e: { chainId: bigint; other: bigint }]
  /** Every live endpoint agreed on a lower head for two heartbeats: the reference head went down (a reorg or rollback). */
  'chain:reorg': [e: { from: bigint; to: bigint }]
  /** The first attempt of a read was slow: the same request went to `hedge` too; the first answer wins. */
  'request:hedge': [e: { method: string; endpoint: string; hedge: string; delay: number }]
  /**
   * A WebSocket endpoint will try to reconnect after `delay` ms (exponential back-off with jitter); while
   * requests wait for an endpoint, sooner (at most one attempt per 250 ms).
   */
  'reconnect:attempt': [e: { endpoint: string; attempt: number; delay: number }]
  /** A request attempt failed and another attempt follows after `delay` ms. */
  'request:retry': [e: { method: string; attempt: number; endpoint: string; error: ResilientRpcError; delay: number }]
  /** A subscription (`pool.subscribe`) now gets its items from this source; a backfill follows every switch. */
  'subscription:source': [e: { id: number } & ({ kind: 'websocket'; endpoint: string } | { kind: 'polling' })]
  /** A request failed (its final error, attempts listed in `error.attempts`); a caller's abort is not reported. */
  'request:error': [e: { method: string; error: ResilientRpcError }]
  /**
   * A request settled, however it ended (from the cache or a shared flight too): its total duration (ms)
   * and, when it failed, its final error (a caller's abort included). Timed only while someone listens.
   */
  'request:done': [e: { method: string; duration: number; error?: ResilientRpcError }]
  /** A listener threw; the pool carried on. */
  error: [error: unknown]
}
