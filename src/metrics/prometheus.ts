// prom-client is an optional peer dependency: neither its code nor its types are imported, so a user
// without it loads nothing, compiles our types, and the browser bundle never sees it. The constructors
// come in through the `client` option; the types below are the parts of them the adapter uses.
import type { BreakerState, EndpointStatus } from '../types/endpoint.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { PoolEvents } from '../types/events.js'
import type { PoolStats } from '../pool/stats.js'
import { show, showJson } from '../util/show.js'
import { integer, knownKeys, optionNames, optionsObject } from '../config/validate.js'

/** Label values of one series, by label name. */
export type PromLabels = Record<string, string>

/** The parts of a prom-client `Registry` the adapter uses; any `Registry` has them. */
export type PromRegistry = {
  getSingleMetric(name: string): unknown
  removeSingleMetric(name: string): void
}

/** What the adapter passes to prom-client's metric constructors (`R`: the registry's type). */
export type PromMetricConfig<R extends PromRegistry = PromRegistry> = {
  name: string
  help: string
  labelNames: string[]
  registers: R[]
  collect?: () => void
}

/** The parts of a prom-client `Counter` the adapter uses. */
export type PromCounterLike = {
  inc(labels: PromLabels, value?: number): void
  reset(): void
}

/** The parts of a prom-client `Gauge` the adapter uses. */
export type PromGaugeLike = {
  set(labels: PromLabels, value: number): void
  remove(labels: PromLabels): void
  reset(): void
}

/** The parts of a prom-client `Histogram` the adapter uses. */
export type PromHistogramLike = {
  observe(labels: PromLabels, value: number): void
  reset(): void
}

/**
 * The parts of the `prom-client` module the adapter uses: pass the module itself
 * (`import * as client from 'prom-client'`). `R` is the type of the registry the metrics go to.
 */
export type PromClient<R extends PromRegistry = PromRegistry> = {
  Counter: new (config: PromMetricConfig<R>) => PromCounterLike
  Gauge: new (config: PromMetricConfig<R>) => PromGaugeLike
  Histogram: new (config: PromMetricConfig<R> & { buckets: number[] }) => PromHistogramLike
  /** prom-client's global registry, used when no `registry` is given. */
  register?: PromRegistry
}

export type PrometheusMetricsOptions<R extends PromRegistry = PromRegistry> = {
  /** The `prom-client` module (or an object with its `Counter`, `Gauge` and `Histogram`). */
  client: PromClient<R>
  /** Where the metrics are registered. @default client.register (prom-client's global registry) */
  registry?: R
  /** Prefix of every metric name. @default 'resilient_rpc_' */
  prefix?: string
  /** Buckets of the request duration histogram (seconds, increasing). @default DEFAULT_RPC_BUCKETS (5 ms to 30 s) */
  buckets?: readonly number[]
  /** Constant labels added to every series, e.g. `{ pool: 'mainnet' }` to tell two pools apart. @default {} */
  labels?: Readonly<Record<string, string>>
  /**
   * Distinct `method` label values; requests of further methods are counted as `other` (method names
   * come from callers: this bounds the number of series). @default 100
   */
  maxMethods?: number
}

/** The adapter's handle. */
export type PrometheusMetrics<R extends PromRegistry = PromRegistry> = {
  /** The registry the metrics live in (the `registry` option, else `client.register`). */
  readonly registry: R
  /** Names of the registered metrics. */
  readonly names: readonly string[]
  /** Removes every pool listener and unregisters every metric. Idempotent. */
  close(): void
}

/** The pool surface the adapter reads: its events and `stats()`. */
export type MetricsSource = {
  on<E extends keyof PoolEvents>(event: E, listener: (...args: PoolEvents[E]) => void): unknown
  off<E extends keyof PoolEvents>(event: E, listener?: (...args: PoolEvents[E]) => void): unknown
  stats(): PoolStats
}

/** Request duration buckets (seconds): from a cached local node's few ms to a deadline of tens of seconds. */
export const DEFAULT_RPC_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])

/** `endpoint_circuit_state` values. */
const BREAKER_CODE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 }
// A record, not a list, so that a new status fails to compile until it is exported here too.
const STATUSES = Object.keys({ up: 0, lagging: 0, ahead: 0, cooldown: 0, unauthorized: 0, connecting: 0, down: 0, quarantined: 0 } satisfies Record<EndpointStatus, 0>) as EndpointStatus[]

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
// Our own label names, and the ones Prometheus reserves for histograms and summaries.
const OWN_LABELS = new Set(['endpoint', 'tier', 'method', 'outcome', 'code', 'state', 'status', 'source', 'le', 'quantile'])

type AnyMetric = PromCounterLike | PromGaugeLike | PromHistogramLike

/**
 * Exports a pool's metrics to a prom-client registry: request counts by outcome and their duration,
 * retries, hedges, breaker transitions and state, endpoint status, head, lag, in-flight attempts and
 * latency, the reference head. Counters follow the pool's events; gauges and per-endpoint counters
 * are read from `pool.stats()` when the registry is scraped (no timer). Endpoints are labelled by their
 * redacted id. docs/recipes/prometheus.md in the package lists every metric.
 * @throws `INVALID_OPTION` for a missing `client`, a bad prefix, bucket list or label, or a metric name
 * already registered (use another `prefix` or `registry`)
 * @example
 * import * as client from 'prom-client'
 * const metrics = createPrometheusMetrics(pool, { client, registry: new client.Registry() })
 * // ... await metrics.registry.metrics()
 * metrics.close()
 */
export function createPrometheusMetrics<R extends PromRegistry = PromRegistry>(pool: MetricsSource, options: PrometheusMetricsOptions<R>): PrometheusMetrics<R> {
  const { client, registry, prefix, buckets, constant, maxMethods } = resolve(options)
  const constantNames = Object.keys(constant)
  const metrics: AnyMetric[] = []
  const names: string[] = []

  // One stats() snapshot per scrape: every collect() of one registry.metrics() call runs in the same
  // tick, so the snapshot is dropped at the next microtask (no timer, nothing to clean up).
  let snapshot: PoolStats | undefined
  const stats = (): PoolStats => {
    if (snapshot === undefined) {
      snapshot = pool.stats()
      queueMicrotask(() => (snapshot = undefined))
    }
    return snapshot
  }
  const labels = (own: PromLabels): PromLabels => ({ ...constant, ...own })

  const define = <M extends AnyMetric>(make: (config: PromMetricConfig<R>) => M, name: string, help: string, labelNames: string[]): M => {
    const full = `${prefix}${name}`
    let metric: M
    try {
      metric = make({ name: full, help, labelNames: [...constantNames, ...labelNames], registers: [registry] })
    } catch (cause) {
      unregister()
      throw new InvalidOptionError('prefix', `cannot register the metric ${full} (${cause instanceof Error ? cause.message : String(cause)}); use another prefix or registry`, { cause })
    }
    metrics.push(metric)
    names.push(full)
    return metric
  }
  const counter = (name: string, help: string, labelNames: string[], collect?: (c: PromCounterLike) => void) => {
    const c: PromCounterLike = define((config) => new client.Counter({ ...config, ...(collect ? { collect: () => collect(c) } : {}) }), name, help, labelNames)
    return c
  }
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: PromGaugeLike) => void) => {
    const g: PromGaugeLike = define((config) => new client.Gauge({ ...config, collect: () => collect(g) }), name, help, labelNames)
    return g
  }
  // Series of endpoints read from stats(), rebuilt on each scrape: an unknown value has no sample.
  const perEndpoint = (metric: PromGaugeLike | PromCounterLike, value: (e: PoolStats['endpoints'][number]) => number | undefined) => {
    metric.reset()
    for (const e of stats().endpoints) {
      const v = value(e)
      if (v === undefined) continue
      if ('set' in metric) metric.set(labels({ endpoint: e.endpoint }), v)
      else metric.inc(labels({ endpoint: e.endpoint }), v)
    }
  }
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1_000)
  const blocks = (n: bigint | undefined) => (n === undefined ? undefined : Number(n))

  function unregister(): void {
    for (const [i, name] of names.entries()) if (registry.getSingleMetric(name) === metrics[i]) registry.removeSingleMetric(name)
    metrics.length = 0
    names.length = 0
  }

  // 1. Counters driven by events.
  const requests = counter('requests_total', 'Requests settled, by method and outcome (ok, or the error code).', ['method', 'outcome'])
  const duration = define(
    (config) => new client.Histogram({ ...config, buckets: [...buckets] }),
    'request_duration_seconds',
    'Request duration (seconds) from the call to its settlement, every attempt, back-off and wait included; outcome ok or error.',
    ['method', 'outcome'],
  )
  const retries = counter('retries_total', 'Failed attempts followed by a retry, by method, endpoint that failed and error code.', ['method', 'endpoint', 'code'])
  const hedges = counter('hedges_total', 'Hedged reads: the first endpoint (label) was slow, the request went to a second one too.', ['method', 'endpoint'])
  const circuits = counter('circuit_transitions_total', 'Breaker transitions, by endpoint and state entered (open, half-open, closed).', ['endpoint', 'state'])
  const statusChanges = counter('endpoint_status_changes_total', 'Endpoint status changes, by endpoint and status entered.', ['endpoint', 'status'])
  const reconnects = counter('endpoint_reconnects_total', 'WebSocket reconnect attempts, by endpoint.', ['endpoint'])
  const reorgs = counter('chain_reorgs_total', 'Times the reference head went down (a reorg or rollback).', [])
  const sources = counter('subscription_source_changes_total', 'Subscriptions moving to a source: websocket (with its endpoint) or polling.', ['source', 'endpoint'])

  // 2. Per-endpoint counters and gauges read from stats() on scrape.
  counter('endpoint_attempts_total', 'Attempts sent to the endpoint (requests and hedges, not heartbeats).', ['endpoint'], (c) => perEndpoint(c, (e) => e.requests))
  counter('endpoint_served_total', 'Attempts the endpoint answered successfully.', ['endpoint'], (c) => perEndpoint(c, (e) => e.served))
  counter('endpoint_failures_total', 'Attempts that counted against the endpoint (timeouts, network errors, 5xx, 429, ...).', ['endpoint'], (c) => perEndpoint(c, (e) => e.failures))
  gauge('endpoint_info', 'Always 1: the endpoint and its tier.', ['endpoint', 'tier'], (g) => {
    g.reset()
    for (const e of stats().endpoints) g.set(labels({ endpoint: e.endpoint, tier: e.tier }), 1)
  })
  gauge('endpoint_status', 'One-hot endpoint status: 1 for the status the endpoint is in, 0 for the others.', ['endpoint', 'status'], (g) => {
    g.reset()
    for (const e of stats().endpoints) for (const s of STATUSES) g.set(labels({ endpoint: e.endpoint, status: s }), s === e.status ? 1 : 0)
  })
  gauge('endpoint_circuit_state', 'Breaker state: 0 closed, 1 half-open, 2 open.', ['endpoint'], (g) => perEndpoint(g, (e) => BREAKER_CODE[e.breaker]))
  gauge('endpoint_head_block', 'Head block the endpoint reported at its last heartbeat (or answer).', ['endpoint'], (g) => perEndpoint(g, (e) => blocks(e.head)))
  gauge('endpoint_lag_blocks', 'Blocks the endpoint is behind the reference head (negative: ahead).', ['endpoint'], (g) => perEndpoint(g, (e) => blocks(e.lag)))
  gauge('endpoint_requests_in_flight', 'Attempts in flight on the endpoint.', ['endpoint'], (g) => perEndpoint(g, (e) => e.inFlight))
  gauge('endpoint_latency_ewma_seconds', 'Smoothed latency of attempts and heartbeats (seconds).', ['endpoint'], (g) => perEndpoint(g, (e) => seconds(e.latencyEwma)))
  gauge('endpoint_latency_p95_seconds', '95th percentile latency of the last 100 attempts (seconds).', ['endpoint'], (g) => perEndpoint(g, (e) => seconds(e.latencyP95)))
  gauge('endpoint_error_ratio', 'Share of the last 100 attempts that failed (0 to 1).', ['endpoint'], (g) => perEndpoint(g, (e) => e.errorRate))
  gauge('endpoint_effective_weight', 'Weight the balancer uses now (lowered by errors, restored by successes).', ['endpoint'], (g) => perEndpoint(g, (e) => e.effectiveWeight))
  gauge('reference_head_block', 'Highest head two live endpoints agree on (no sample until heartbeats know it).', [], (g) => {
    const head = stats().referenceHead
    // remove(), not reset(): reset() gives a gauge without labels a sample of 0, a head nobody reported.
    if (head === undefined) g.remove(labels({}))
    else g.set(labels({}), Number(head))
  })

  // 3. The listeners. Method names come from callers: bound the series they create.
  const methods = new Set<string>()
  const method = (m: string): string => {
    if (methods.has(m)) return m
    if (methods.size >= maxMethods) return 'other'
    methods.add(m)
    return m
  }
  const listeners: { [E in keyof PoolEvents]?: (...args: PoolEvents[E]) => void } = {
    'request:done': ({ method: m, duration: ms, error }) => {
      const name = method(String(m))
      requests.inc(labels({ method: name, outcome: error === undefined ? 'ok' : isResilientRpcError(error) ? error.code : 'UNKNOWN' }))
      duration.observe(labels({ method: name, outcome: error === undefined ? 'ok' : 'error' }), ms / 1_000)
    },
    'request:retry': ({ method: m, endpoint, error }) => retries.inc(labels({ method: method(m), endpoint, code: isResilientRpcError(error) ? error.code : 'UNKNOWN' })),
    'request:hedge': ({ method: m, endpoint }) => hedges.inc(labels({ method: method(m), endpoint })),
    'circuit:open': ({ endpoint }) => circuits.inc(labels({ endpoint, state: 'open' })),
    'circuit:halfOpen': ({ endpoint }) => circuits.inc(labels({ endpoint, state: 'half-open' })),
    'circuit:close': ({ endpoint }) => circuits.inc(labels({ endpoint, state: 'closed' })),
    'endpoint:state': ({ endpoint, to }) => statusChanges.inc(labels({ endpoint, status: to })),
    'reconnect:attempt': ({ endpoint }) => reconnects.inc(labels({ endpoint })),
    'chain:reorg': () => reorgs.inc(labels({})),
    'subscription:source': (e) => sources.inc(labels(e.kind === 'websocket' ? { source: 'websocket', endpoint: e.endpoint } : { source: 'polling' })),
  }
  const entries = Object.entries(listeners) as [keyof PoolEvents, (...args: unknown[]) => void][]
  for (const [event, listener] of entries) pool.on(event, listener as never)

  let closed = false
  return {
    registry,
    get names() {
      return [...names]
    },
    close() {
      if (closed) return
      closed = true
      for (const [event, listener] of entries) pool.off(event, listener as never)
      unregister()
    },
  }
}

function resolve<R extends PromRegistry>(options: PrometheusMetricsOptions<R>) {
  if (optionsObject('options', options) === undefined) throw new InvalidOptionError('options', `expected { client } (import * as client from 'prom-client'), got undefined`)
  knownKeys('', options, METRICS_OPTIONS)
  const { client } = options
  if (typeof client !== 'object' || client === null || ['Counter', 'Gauge', 'Histogram'].some((k) => typeof (client as Record<string, unknown>)[k] !== 'function')) {
    throw new InvalidOptionError('client', `expected the prom-client module (import * as client from 'prom-client'), got ${show(client)}`)
  }
  // Without `registry`, the metrics go to prom-client's global one, which its constructors take (R).
  const registry = (options.registry ?? client.register) as R | undefined
  if (typeof registry !== 'object' || registry === null || typeof registry.getSingleMetric !== 'function' || typeof registry.removeSingleMetric !== 'function') {
    throw new InvalidOptionError('registry', `expected a prom-client Registry, got ${show(registry)}`)
  }
  const prefix = options.prefix ?? 'resilient_rpc_'
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) throw new InvalidOptionError('prefix', `expected letters, digits, _ or : (not first a digit), got ${showJson(prefix)}`)
  const buckets = options.buckets ?? DEFAULT_RPC_BUCKETS
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= buckets[i - 1]!))) {
    throw new InvalidOptionError('buckets', `expected a non-empty list of increasing positive durations (seconds), got ${showJson(buckets)}`)
  }
  const constant = optionsObject('labels', options.labels) ?? {}
  for (const [name, value] of Object.entries(constant)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new InvalidOptionError(`labels.${name}`, 'expected a Prometheus label name (letters, digits, _; not starting with __ or a digit)')
    if (OWN_LABELS.has(name)) throw new InvalidOptionError(`labels.${name}`, 'is a label the metrics already use')
    if (typeof value !== 'string') throw new InvalidOptionError(`labels.${name}`, `expected a string value, got ${show(value)}`)
  }
  const maxMethods = integer('maxMethods', options.maxMethods, 100, 1)
  return { client, registry, prefix, buckets, constant: { ...constant } as PromLabels, maxMethods }
}

const METRICS_OPTIONS = optionNames<PrometheusMetricsOptions>({ client: true, registry: true, prefix: true, buckets: true, labels: true, maxMethods: true })
