import { blockTarget, type AtLeastTarget, type BlockTarget } from '../balancer/blockTarget.js'
import type { ResolvedPoolOptions } from '../config/poolOptions.js'
import { duration, integer, knownKeys, optionalSignal, optionNames } from '../config/validate.js'
import type { Attempt, EndpointExclusion } from '../errors/base.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import type { Endpoint } from '../endpoint/endpoint.js'
import type { RequestSpan } from '../observability/tracing.js'

export type RequestOptions = {
  /** Cancels the request, including the in-flight HTTP call. */
  signal?: AbortSignal
  /** Deadline across every attempt, back-off and wait for an endpoint (ms). @default the pool's `defaultTimeout` */
  timeout?: number
  /** Time limit of each attempt (ms). @default the pool's `attemptTimeout` */
  attemptTimeout?: number
  /** Retries after the first attempt. @default the pool's `retries` */
  retries?: number
  /**
   * Quorum read (idempotent reads only): ask distinct endpoints until this many agree on the
   * normalised result (sorted keys, lower-cased hex). A read of the latest state is first pinned to
   * the reference head's block. `1` is an ordinary request. @default 1
   */
  quorum?: number
}

const REQUEST_OPTIONS = optionNames<RequestOptions>({ signal: true, timeout: true, attemptTimeout: true, retries: true, quorum: true })

/** An attempt in flight: where, since when. */
export type RunningAttempt = { readonly endpoint: Endpoint; readonly start: number }

/** One request's way through the pool: what it asks, its limits, and what happened to it so far. */
export type Call = {
  method: string
  params: readonly unknown[]
  /** `params` serialised once, for the de-duplication key and the request body. */
  paramsJson: string
  attemptTimeout: number
  retries: number
  target: BlockTarget
  /** Failed attempts, in order: listed by the final error. */
  attempts: Attempt[]
  /** Endpoints (indexes) picked so far, in order. */
  tried: number[]
  /** Back-offs waited so far: the next one's exponent. */
  backoffs: number
  /** Attempts in flight now (at most a first and a hedge): listed in the error when a deadline cuts them. */
  running: RunningAttempt[]
  /** Whether the attempt reserved last is a half-open breaker's trial. */
  trial: boolean
  /** Set while the call waits for an endpoint: what kept each one out. */
  waitingOn: EndpointExclusion[] | undefined
  /** The request's span, with a `tracer` only. */
  span?: RequestSpan
  /** Clock time of the deadline of the caller who started it (shared callers keep their own). */
  deadlineAt: number
  /** Endpoints (indexes) the call must not use; each pick is added (a quorum read asks each endpoint once). */
  avoid?: Set<number>
  /** How a latest-state read keeps to the pool's read floor (see floor.ts), set as the request starts. */
  floor: FloorRule | undefined
  /** Endpoints (indexes) that answered they lack the block the call is pinned to: not picked again. */
  lacking?: Set<number>
  /** The endpoint of the last failed attempt, and its generation when that attempt went out (see `Retries`). */
  failedOn?: { endpoint: Endpoint; generation: number }
}

/**
 * `pin`: asked at the floor's block where the endpoint is not known to have it; `atLeast`: only
 * endpoints known to have it serve. `target`: the request's target under the rule.
 */
export type FloorRule = { kind: 'pin' | 'atLeast'; floor: bigint; target: AtLeastTarget }

/** Validates a request and makes its call. @throws `INVALID_OPTION` */
export function newCall(options: ResolvedPoolOptions, method: string, params: readonly unknown[], request: RequestOptions): Call {
  if (typeof method !== 'string' || method === '') throw new InvalidOptionError('method', 'expected a non-empty string')
  if (!Array.isArray(params)) throw new InvalidOptionError('params', 'expected an array')
  knownKeys('', request, REQUEST_OPTIONS)
  optionalSignal('signal', request.signal)
  const attemptTimeout = duration('attemptTimeout', request.attemptTimeout, options.attemptTimeout, false, true)
  const retries = integer('retries', request.retries, options.retries)
  let paramsJson: string
  try {
    paramsJson = JSON.stringify(params)
  } catch (cause) {
    throw new InvalidOptionError('params', 'not JSON-serialisable (encode bigints as hex quantities)', { cause })
  }
  return {
    method,
    params,
    paramsJson,
    attemptTimeout,
    retries,
    target: blockTarget(method, params),
    attempts: [],
    running: [],
    floor: undefined,
    tried: [],
    backoffs: 0,
    trial: false,
    waitingOn: undefined,
    deadlineAt: Infinity,
  }
}
