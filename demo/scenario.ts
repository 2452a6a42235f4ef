import type { FaultMode } from '../test/support/faultProxy.js'

/** One step of the storm: what each of the three proxies does while it lasts. */
export type Phase = {
  name: string
  /** What the viewer should notice, one line. */
  story: string
  /** Share of the storm's duration, 0..1; the shares add up to 1. */
  share: number
  /** Fault per proxy, by index. */
  modes: readonly [FaultMode, FaultMode, FaultMode]
}

const PASS: FaultMode = { kind: 'pass' }

/**
 * The scripted storm. Faults come one at a time, so the pool always has somewhere to go until the
 * outage, which is short enough for requests waiting through it to finish once the endpoints return.
 * The lag comes before the rate limit: an endpoint in its Retry-After cool-down is not pinged, so its
 * head goes stale too, and two stale heads would outvote the one fresh endpoint.
 */
export const PHASES: readonly Phase[] = [
  { name: 'calm', story: 'steady traffic, three healthy endpoints', share: 0.12, modes: [PASS, PASS, PASS] },
  { name: 'hang', story: '#0 accepts requests and never answers', share: 0.2, modes: [{ kind: 'hang' }, PASS, PASS] },
  { name: 'lag', story: "#2's head freezes while the chain moves on", share: 0.16, modes: [PASS, PASS, { kind: 'stale' }] },
  { name: 'rate limit', story: '#1 answers 429 Too Many Requests, Retry-After: 2 s', share: 0.16, modes: [PASS, { kind: 'http429', retryAfter: 2 }, PASS] },
  { name: 'outage', story: 'all three endpoints drop every connection', share: 0.12, modes: [{ kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' }] },
  { name: 'recovery', story: 'everything is back; the pool finds its endpoints again', share: 0.24, modes: [PASS, PASS, PASS] },
]

/** Start and end of each phase (ms from the start of the storm). */
export function schedule(durationMs: number, phases: readonly Phase[] = PHASES): Array<{ phase: Phase; index: number; start: number; end: number }> {
  let start = 0
  return phases.map((phase, index) => {
    const end = index === phases.length - 1 ? durationMs : start + Math.round(phase.share * durationMs)
    const slot = { phase, index, start, end }
    start = end
    return slot
  })
}

/** Index of the phase running at `elapsedMs`; the last one past the end. */
export function phaseIndexAt(elapsedMs: number, durationMs: number, phases: readonly Phase[] = PHASES): number {
  const slots = schedule(durationMs, phases)
  const slot = slots.find((s) => elapsedMs < s.end)
  return slot ? slot.index : slots.length - 1
}

export function describeMode(mode: FaultMode): string {
  switch (mode.kind) {
    case 'pass':
      return '—'
    case 'http429':
      return `429${mode.retryAfter === undefined ? '' : ` (retry ${mode.retryAfter}s)`}`
    case 'stale':
      return 'frozen head'
    case 'reset':
      return 'drops conns'
    case 'delay':
      return `+${mode.ms} ms`
    default:
      return mode.kind
  }
}
