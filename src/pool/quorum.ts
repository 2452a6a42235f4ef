import { AbortedError, QuorumError, RetryBudgetExhaustedError, type QuorumAnswer } from '../errors/request.js'
import { isResilientRpcError } from '../errors/guard.js'
import type { Attempt, ResilientRpcError } from '../errors/base.js'
import type { Clock } from '../util/clock.js'
import { HEX_DATA } from '../util/hex.js'

/** How one endpoint answered a quorum read's question. */
export type AskOutcome = { endpoint: string; result: unknown } | { endpoint: string; error: ResilientRpcError }

/** What a quorum read needs from the pool. */
export type QuorumHost = {
  clock: Clock
  /**
   * Asks one endpoint not in `asked` (waiting, under `signal`, while every such endpoint is at its
   * limits), adding it to `asked` as it is picked. Rejects only when `signal` aborts.
   */
  ask(asked: Set<number>, signal: AbortSignal): Promise<AskOutcome>
  /** Endpoints not in `asked` that could serve now or soon (up, not quarantined): worth asking. */
  askable(asked: ReadonlySet<number>): number
  /** Counts the first `quorum` asks as first attempts of the retry budget. */
  first(): void
  /** Whether one more ask (after a failure or a disagreement) fits the retry budget; spends it if so. */
  extra(): boolean
}

/**
 * Canonical JSON of a result, so equal answers compare equal whatever the node's formatting: object
 * keys sorted, hex strings lower-cased. (JSON-RPC ids are not part of a `result`.)
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(HEX_DATA.test(value) ? value.toLowerCase() : value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * Asks distinct endpoints until `quorum` of them agree on the (normalised) result, and resolves with
 * it. Steps:
 * 1. ask `quorum` endpoints in parallel;
 * 2. whenever one fails or answers, ask as many more as still could make up the quorum (an answer
 *    group short of `quorum` with too few asks pending), each within the retry budget;
 * 3. once a group reaches `quorum`, resolve and abort the asks still running (neutrally);
 * 4. with nothing pending and nobody left to ask, reject with `QuorumError` listing each distinct
 *    answer and who gave it (failures in `attempts`).
 * @throws `QUORUM_FAILED`, `RETRY_BUDGET_EXHAUSTED`, or `signal`'s reason
 */
export function quorumRead(host: QuorumHost, quorum: number, signal: AbortSignal): Promise<unknown> {
  const { clock } = host
  return new Promise((resolve, reject) => {
    const asked = new Set<number>()
    const groups = new Map<string, { result: unknown; endpoints: string[] }>()
    const attempts: Attempt[] = []
    // The asks' own signal: a reached quorum ends the others without it looking like the caller's abort.
    const inner = new AbortController()
    let pending = 0
    let launched = 0
    let done = false
    let budgetRefused = false

    const answers = (): QuorumAnswer[] => [...groups.values()].map((g) => ({ result: g.result, endpoints: [...g.endpoints] }))
    const finish = (settle: () => void) => {
      if (done) return
      done = true
      signal.removeEventListener('abort', onAbort)
      inner.abort(new AbortedError({ details: 'quorum read settled' }))
      settle()
    }
    const fail = (cause?: unknown) => {
      const error = budgetRefused && groups.size === 0 ? new RetryBudgetExhaustedError({ attempts }) : new QuorumError(quorum, answers(), { attempts, cause })
      finish(() => reject(error))
    }
    const onAbort = () => {
      // A passed deadline still deserves to know what was heard; a caller's abort is just that.
      const reason: unknown = signal.reason
      if (isResilientRpcError(reason, 'TIMEOUT') && (groups.size > 0 || attempts.length > 0)) return fail(reason)
      finish(() => reject(reason))
    }

    const launch = (n: number, extra: boolean) => {
      for (let i = 0; i < n && !done; i++) {
        // Asks still waiting for an endpoint (launched, not yet picked) will take askable ones too.
        if (host.askable(asked) - (launched - asked.size) <= 0) return
        if (extra && !host.extra()) {
          budgetRefused = true
          return
        }
        if (!extra) host.first()
        pending++
        launched++
        const start = clock.now()
        host.ask(asked, inner.signal).then(
          (outcome) => settled(outcome, clock.now() - start),
          () => settled(undefined, 0),
        )
      }
    }

    const settled = (outcome: AskOutcome | undefined, duration: number) => {
      pending--
      if (done) return
      if (outcome !== undefined) {
        if ('error' in outcome) {
          attempts.push({ endpoint: outcome.endpoint, error: outcome.error, duration })
        } else {
          const key = canonicalJson(outcome.result)
          const group = groups.get(key) ?? { result: outcome.result, endpoints: [] }
          group.endpoints.push(outcome.endpoint)
          groups.set(key, group)
          if (group.endpoints.length >= quorum) return finish(() => resolve(group.result))
        }
      }
      // The best group, with every ask pending agreeing with it, must still be able to reach the quorum.
      const best = Math.max(0, ...[...groups.values()].map((g) => g.endpoints.length))
      const missing = quorum - best - pending
      if (missing > 0) launch(missing, true)
      if (pending === 0) fail()
    }

    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    launch(quorum, false)
    if (pending === 0) fail()
  })
}
