import { ResilientRpcError, type Attempt, type EndpointExclusion, type ResilientRpcErrorOptions } from './base.js'

/** A deadline passed: the whole request's (`scope: 'request'`) or one attempt's (`scope: 'attempt'`). */
export class TimeoutError extends ResilientRpcError {
  override name = 'TimeoutError'
  readonly scope: 'request' | 'attempt'
  /** The timeout that passed (ms). */
  readonly timeout: number
  constructor(scope: 'request' | 'attempt', timeout: number, options: ResilientRpcErrorOptions = {}) {
    super('TIMEOUT', scope === 'request' ? `Request timed out after ${timeout} ms` : `Attempt timed out after ${timeout} ms`, options)
    this.scope = scope
    this.timeout = timeout
  }
}

/** The caller's `AbortSignal` fired. `cause` is the signal's `reason`. */
export class AbortedError extends ResilientRpcError {
  override name = 'AbortedError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('ABORTED', 'Request was aborted by the caller', options)
  }
}

/** The endpoint's circuit breaker is open, so it was not tried. */
export class CircuitOpenError extends ResilientRpcError {
  override name = 'CircuitOpenError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('CIRCUIT_OPEN', 'Circuit breaker is open', options)
  }
}

/** No endpoint could take the request before its deadline. Lists why each endpoint is out. */
export class NoHealthyEndpointError extends ResilientRpcError {
  override name = 'NoHealthyEndpointError'
  constructor(excluded: readonly EndpointExclusion[], options: ResilientRpcErrorOptions = {}) {
    super('NO_ENDPOINT', 'No endpoint available', {
      ...options,
      details: excluded.map((e) => `${e.endpoint}: ${e.reason}`).join('; ') || options.details,
    })
    // Set here, not passed to the base: the details list them already, the message need not twice.
    this.excluded = excluded
  }
}

/** The pool was destroyed before or while the request ran. */
export class PoolDestroyedError extends ResilientRpcError {
  override name = 'PoolDestroyedError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('POOL_DESTROYED', 'Pool was destroyed', options)
  }
}

/** Every attempt failed with a retryable error and the retry limit was reached. `cause` is the last one. */
export class RetriesExhaustedError extends ResilientRpcError {
  override name = 'RetriesExhaustedError'
  constructor(options: ResilientRpcErrorOptions & { attempts: readonly Attempt[] }) {
    super('RETRIES_EXHAUSTED', `All ${options.attempts.length} attempts failed`, options)
  }
}

/** `pool.ready()` timed out before enough endpoints were healthy. Lists why each one is not. */
export class NotReadyError extends ResilientRpcError {
  override name = 'NotReadyError'
  constructor(healthy: number, wanted: number, excluded: readonly EndpointExclusion[], options: ResilientRpcErrorOptions = {}) {
    super('NOT_READY', `Pool not ready: ${healthy} of ${wanted} required endpoints healthy`, {
      ...options,
      details: excluded.map((e) => `${e.endpoint}: ${e.reason}`).join('; ') || options.details,
    })
    this.excluded = excluded
  }
}

/**
 * A retry was due but the pool's retry budget (retries and hedges as a share of first attempts) is
 * spent: the fleet is failing broadly and more attempts would only add load. Never retried; lists the
 * attempts made, `cause` is the last one's error.
 */
export class RetryBudgetExhaustedError extends ResilientRpcError {
  override name = 'RetryBudgetExhaustedError'
  constructor(options: ResilientRpcErrorOptions = {}) {
    super('RETRY_BUDGET_EXHAUSTED', 'Retry budget exhausted: too many retries across the pool, not retrying', options)
  }
}

/**
 * Every endpoint that could serve the request is at its `maxConcurrency` or `rateLimit`, and
 * `maxQueue` requests are already waiting for one. Fails fast; never retried.
 */
export class QueueFullError extends ResilientRpcError {
  override name = 'QueueFullError'
  /** The `maxQueue` that was reached. */
  readonly maxQueue: number
  constructor(maxQueue: number, excluded: readonly EndpointExclusion[], options: ResilientRpcErrorOptions = {}) {
    super('QUEUE_FULL', `Queue full: ${maxQueue} requests already wait for an endpoint under its limits`, {
      ...options,
      details: excluded.map((e) => `${e.endpoint}: ${e.reason}`).join('; ') || options.details,
    })
    this.maxQueue = maxQueue
    this.excluded = excluded
  }
}

/**
 * No endpoint has the block a read is pinned to: each one asked answered that it lacks it ("header
 * not found", a log range past its head refused, `null` for a block lookup… each in `attempts`), and
 * none of the others could take the read (`excluded` says why). Ask again once the chain has reached
 * `block`. Never retried by the pool. A block lookup (`eth_getBlockByNumber`…) that some endpoint
 * answered `null` resolves `null` instead: that is the chain's answer for a block not there yet.
 */
export class BlockUnavailableError extends ResilientRpcError {
  override name = 'BlockUnavailableError'
  /** The block the read is pinned to. */
  readonly block: bigint
  constructor(block: bigint, options: ResilientRpcErrorOptions = {}) {
    super('BLOCK_UNAVAILABLE', `No endpoint has block ${block}: each one asked answered that it lacks it`, options)
    this.block = block
  }
}

/** One distinct (normalised) answer of a quorum read and the endpoints (redacted ids) that gave it. */
export type QuorumAnswer = { result: unknown; endpoints: readonly string[] }

/**
 * A quorum read found no `quorum` endpoints agreeing on one answer before it ran out of endpoints
 * (or of time). Lists each distinct answer with who gave it; the endpoints that failed are in
 * `attempts`. Never retried.
 */
export class QuorumError extends ResilientRpcError {
  override name = 'QuorumError'
  readonly quorum: number
  readonly answers: readonly QuorumAnswer[]
  constructor(quorum: number, answers: readonly QuorumAnswer[], options: ResilientRpcErrorOptions = {}) {
    const best = answers.reduce((n, a) => Math.max(n, a.endpoints.length), 0)
    super('QUORUM_FAILED', `Quorum not reached: ${answers.length} distinct answer${answers.length === 1 ? '' : 's'}, at most ${best} of ${quorum} agreeing`, {
      ...options,
      details:
        answers.map((a) => `${a.endpoints.join(', ')}: ${preview(a.result)}`).join('; ') || options.details,
    })
    this.quorum = quorum
    this.answers = answers
  }
}

function preview(result: unknown): string {
  const text = JSON.stringify(result) ?? String(result)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
