import { performance } from 'node:perf_hooks'

/** One request as the load generator sees it. Rejects on failure. */
export type Op = () => Promise<unknown>

export type LoadOptions = {
  /** Requests kept in flight at once (closed loop: each worker sends the next as its last settles). */
  concurrency: number
  /** Stop starting new requests after this long (ms). */
  durationMs: number
  /** Stop starting new requests after this many. @default Infinity */
  maxRequests?: number
  /** A request counts as a success only when it resolves within this (ms). @default Infinity */
  deadlineMs?: number
  /** After `durationMs`, wait at most this long for requests still in flight (ms); those still open count as failed. @default 15_000 */
  drainCapMs?: number
}

export type LoadResult = {
  /** Requests that settled (or were given up on after the drain cap). */
  count: number
  ok: number
  /** Latency of every settled request (ms), successes and failures alike. */
  latencies: ArrayLike<number>
  /** From the first request to the last settlement (ms). */
  elapsedMs: number
  /** Failure reasons and how often each occurred. */
  errors: Map<string, number>
}

// Grace for timer slop: a client whose own 3 s deadline fires at 3.004 s still met it.
const DEADLINE_GRACE_MS = 100

/** What both load shapes record: each settled request's latency and outcome, and what is in flight. */
class Tally {
  readonly latencies: number[] = []
  readonly errors = new Map<string, number>()
  ok = 0
  pending = 0
  lastSettled = 0
  readonly #deadlineMs: number

  constructor(deadlineMs: number) {
    this.#deadlineMs = deadlineMs
  }

  fail(reason: string): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1)
  }

  /** Times one request; never rejects. */
  async measure(op: Op): Promise<void> {
    this.pending++
    const t0 = performance.now()
    try {
      await op()
      const t = performance.now()
      this.latencies.push(t - t0)
      if (t - t0 <= this.#deadlineMs + DEADLINE_GRACE_MS) this.ok++
      else this.fail('resolved after the deadline')
      this.lastSettled = t
    } catch (error) {
      const t = performance.now()
      this.latencies.push(t - t0)
      this.fail(describeError(error))
      this.lastSettled = t
    } finally {
      this.pending--
    }
  }

  /** Requests that never settled count as failures at the cap, so they show in max and success rate. */
  giveUp(end: number): void {
    const now = performance.now()
    for (let i = 0; i < this.pending; i++) {
      this.latencies.push(now - end)
      this.fail('never settled (harness gave up)')
    }
    this.lastSettled = now
  }

  result(start: number): LoadResult {
    return { count: this.latencies.length, ok: this.ok, latencies: Float64Array.from(this.latencies), elapsedMs: Math.max(1, this.lastSettled - start), errors: this.errors }
  }
}

/** Closed-loop load: `concurrency` workers, each sending its next request as soon as its last settles. */
export async function runLoad(op: Op, options: LoadOptions): Promise<LoadResult> {
  const { concurrency, durationMs, maxRequests = Infinity, deadlineMs = Infinity, drainCapMs = 15_000 } = options
  const tally = new Tally(deadlineMs)
  let started = 0
  const start = performance.now()
  const end = start + durationMs

  const worker = async () => {
    while (started < maxRequests && performance.now() < end) {
      started++
      await tally.measure(op)
    }
  }

  const workers = Promise.all(Array.from({ length: concurrency }, worker))
  let capTimer: NodeJS.Timeout | undefined
  const capped = new Promise<'capped'>((resolve) => {
    capTimer = setTimeout(() => resolve('capped'), durationMs + drainCapMs)
  })
  const outcome = await Promise.race([workers.then(() => 'done' as const), capped])
  clearTimeout(capTimer)
  if (outcome === 'capped') tally.giveUp(end)
  return tally.result(start)
}

export type OpenLoadOptions = {
  /** Requests started per second, whatever happens to earlier ones (open loop: traffic does not wait for a stuck client). */
  rate: number
  /** Stop starting new requests after this long (ms). */
  durationMs: number
  /** A request counts as a success only when it resolves within this (ms). @default Infinity */
  deadlineMs?: number
  /** After `durationMs`, wait at most this long for requests still in flight (ms). @default 15_000 */
  drainCapMs?: number
  /** Requests in flight beyond this are not sent and count as failed: a bound on the harness's memory. @default 5_000 */
  maxInFlight?: number
}

// Arrivals are released on a timer tick; 2 ms keeps bursts small at a few hundred requests per second.
const TICK_MS = 2

/** Open-loop load: requests arrive at a fixed rate, as traffic from many independent users would. */
export async function runOpenLoad(op: Op, options: OpenLoadOptions): Promise<LoadResult> {
  const { rate, durationMs, deadlineMs = Infinity, drainCapMs = 15_000, maxInFlight = 5_000 } = options
  const tally = new Tally(deadlineMs)
  let started = 0
  let allSent!: () => void
  let drained: (() => void) | undefined
  const sending = new Promise<void>((resolve) => (allSent = resolve))
  const start = performance.now()
  const end = start + durationMs

  const one = async () => {
    await tally.measure(op)
    if (tally.pending === 0) drained?.()
  }

  const tick = () => {
    const now = performance.now()
    const due = Math.floor((Math.min(now, end) - start) * (rate / 1000)) + 1
    while (started < due) {
      started++
      if (tally.pending >= maxInFlight) {
        tally.latencies.push(0)
        tally.fail('not sent: harness in-flight cap')
        continue
      }
      void one()
    }
    if (now >= end) return allSent()
    setTimeout(tick, TICK_MS)
  }
  tick()
  await sending
  if (tally.pending > 0) {
    let capTimer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      new Promise<'done'>((resolve) => (drained = () => resolve('done'))),
      new Promise<'capped'>((resolve) => (capTimer = setTimeout(() => resolve('capped'), drainCapMs))),
    ])
    clearTimeout(capTimer)
    if (outcome === 'capped') tally.giveUp(end)
  }
  return tally.result(start)
}

/** A short, stable label for an error: its library code or name, never its message's variable parts. */
export function describeError(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; shortMessage?: unknown; cause?: unknown } | undefined
  if (typeof e?.code === 'string' && e.code !== '') return `${String(e.name ?? 'Error')}:${e.code}`
  if (typeof e?.name === 'string') return e.name
  return typeof error
}

export type Summary = {
  count: number
  rps: number
  okRate: number
  p50: number
  p99: number
  max: number
  mean: number
  topError: string | undefined
}

/** Merges rounds of one client and reduces them to what the tables print. */
export function summarize(results: readonly LoadResult[]): Summary {
  const all: number[] = []
  let elapsed = 0
  let ok = 0
  const errors = new Map<string, number>()
  for (const r of results) {
    for (let i = 0; i < r.latencies.length; i++) all.push(r.latencies[i]!)
    elapsed += r.elapsedMs
    ok += r.ok
    for (const [k, v] of r.errors) errors.set(k, (errors.get(k) ?? 0) + v)
  }
  const sorted = Float64Array.from(all).sort()
  const count = sorted.length
  let sum = 0
  for (const l of sorted) sum += l
  const top = [...errors.entries()].sort((a, b) => b[1] - a[1])[0]
  return {
    count,
    rps: (count / elapsed) * 1000,
    okRate: count === 0 ? 0 : ok / count,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: count === 0 ? Number.NaN : sorted[count - 1]!,
    mean: count === 0 ? Number.NaN : sum / count,
    topError: top ? `${top[0]} ×${top[1]}` : undefined,
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
