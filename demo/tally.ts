import { isResilientRpcError } from '../src/index.js'

export type Kind = 'read' | 'confirmed read' | 'transfer'
export const KINDS: readonly Kind[] = ['read', 'confirmed read', 'transfer']

export type Outcome = 'ok' | 'failed' | 'timed out' | 'aborted'

export type Counts = { started: number; ok: number; failed: number; timedOut: number; aborted: number }

const zero = (): Counts => ({ started: 0, ok: 0, failed: 0, timedOut: 0, aborted: 0 })

export function settled(c: Counts): number {
  return c.ok + c.failed + c.timedOut + c.aborted
}

/** Started but not settled: a request the pool lost, if it is still there once the workload drained. */
export function pending(c: Counts): number {
  return c.started - settled(c)
}

export function outcomeOf(error: unknown): Outcome {
  if (isResilientRpcError(error, 'TIMEOUT') || isResilientRpcError(error, 'CONFIRMATION_TIMEOUT')) return 'timed out'
  if (isResilientRpcError(error, 'ABORTED')) return 'aborted'
  return 'failed'
}

/**
 * Counts every request the demo starts and how it settled. A request is counted as started before
 * the pool sees it and as settled in its own `finally`, so `pending` is exactly what never came back.
 */
export class Tally {
  readonly byKind = new Map<Kind, Counts>(KINDS.map((k) => [k, zero()]))
  /** Error codes of failures and timeouts, for the summary. */
  readonly errors = new Map<string, number>()
  readonly #inFlight = new Set<Promise<unknown>>()

  total(): Counts {
    const t = zero()
    for (const c of this.byKind.values()) for (const key of Object.keys(t) as (keyof Counts)[]) t[key] += c[key]
    return t
  }

  /** Runs `work`, counting it; never rejects (the outcome is recorded instead). */
  track(kind: Kind, work: () => Promise<unknown>): Promise<void> {
    const counts = this.byKind.get(kind)!
    counts.started++
    const run = (async () => {
      try {
        await work()
        counts.ok++
      } catch (error) {
        const outcome = outcomeOf(error)
        if (outcome === 'timed out') counts.timedOut++
        else if (outcome === 'aborted') counts.aborted++
        else counts.failed++
        if (outcome !== 'aborted') {
          const code = isResilientRpcError(error) ? error.code : 'UNEXPECTED'
          this.errors.set(code, (this.errors.get(code) ?? 0) + 1)
        }
      }
    })()
    this.#inFlight.add(run)
    void run.finally(() => this.#inFlight.delete(run))
    return run
  }

  /** Resolves once every tracked request settled, or after `ms`, whichever comes first. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
    try {
      while (this.#inFlight.size > 0) {
        const race = await Promise.race([Promise.all([...this.#inFlight]).then(() => 'drained' as const), timeout.then(() => 'timeout' as const)])
        if (race === 'timeout') return
      }
    } finally {
      clearTimeout(timer)
    }
  }
}
