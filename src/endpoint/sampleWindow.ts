/**
 * The last `size` attempt outcomes of one endpoint, for `stats()`: latency p95 over the successes and
 * the error rate over all. A fixed ring: constant memory whatever the traffic.
 */
export class SampleWindow {
  readonly #latencies: Float64Array
  // NaN marks a failed attempt.
  #next = 0
  #count = 0
  #cachedP95: number | undefined
  #sinceCached = Infinity

  constructor(size = 100) {
    this.#latencies = new Float64Array(size)
  }

  push(latency: number | undefined): void {
    this.#sinceCached++
    this.#latencies[this.#next] = latency ?? Number.NaN
    this.#next = (this.#next + 1) % this.#latencies.length
    if (this.#count < this.#latencies.length) this.#count++
  }

  /**
   * `p95()` recomputed at most every 16 samples: cheap enough to consult on every request (the hedge
   * delay), fresh enough to follow a change in an endpoint's speed.
   */
  recentP95(): number | undefined {
    // An empty window's `undefined` is not worth keeping for 16 samples: the first sample counts at once.
    if (this.#sinceCached >= 16 || (this.#cachedP95 === undefined && this.#count > 0)) {
      this.#cachedP95 = this.p95()
      this.#sinceCached = 0
    }
    return this.#cachedP95
  }

  /** 95th percentile latency of the successes in the window (ms), `undefined` without any. */
  p95(): number | undefined {
    // A typed array sorts numerically without a comparator call per pair, and puts NaN (failures) last.
    const sorted = this.#latencies.slice(0, this.#count).sort()
    let ok = sorted.length
    while (ok > 0 && Number.isNaN(sorted[ok - 1])) ok--
    if (ok === 0) return undefined
    return sorted[Math.min(ok - 1, Math.ceil(ok * 0.95) - 1)]
  }

  /** Share of failed attempts in the window, 0..1 (0 without any). */
  errorRate(): number {
    if (this.#count === 0) return 0
    let failed = 0
    for (let i = 0; i < this.#count; i++) if (Number.isNaN(this.#latencies[i])) failed++
    return failed / this.#count
  }
}
