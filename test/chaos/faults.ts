import type { FaultMode } from '../support/faultProxy.js'
import type { WsFaultMode } from '../support/wsFaultProxy.js'
import type { ChaosNode } from './node.js'

/** The faults of the matrix (issue #10), by the names the report uses. */
export const FAULTS = [
  'hang',
  'reset',
  'http500',
  'http429',
  'garbage',
  'slow',
  'flap',
  'lag',
  'wrongChain',
  'wsDrop',
  'wsSilent',
  'allDown',
] as const
export type FaultName = (typeof FAULTS)[number]

export type Target = 'http0' | 'http1' | 'ws' | 'all'
export type Placement = { fault: FaultName; target: Target }
/** One cell of the matrix: one fault, or two on different endpoints. */
export type Cell = { name: string; faults: Placement[] }

/** What each fault does to the one proxy it is placed on. */
const HTTP_MODES: Partial<Record<FaultName, FaultMode>> = {
  hang: { kind: 'hang' },
  reset: { kind: 'reset' },
  http500: { kind: 'http500' },
  http429: { kind: 'http429', retryAfter: 1 },
  garbage: { kind: 'garbage' },
  // Twice the attempt timeout: every attempt there times out, yet the socket is not refused.
  slow: { kind: 'delay', ms: 2_000 },
  flap: { kind: 'flap', upMs: 400, downMs: 400 },
  lag: { kind: 'stale' },
  wrongChain: { kind: 'wrongChain', chainId: 999 },
}
const WS_MODES: Partial<Record<FaultName, WsFaultMode>> = {
  wsDrop: { kind: 'drop' },
  wsSilent: { kind: 'silent' },
}

/**
 * A wrong-chain endpoint is set before the pool starts, so the invariant "no answer from a wrong-chain
 * endpoint" can hold: an HTTP endpoint that switches chains mid-run is found only at its next chain
 * re-check (`heartbeat.chainCheckInterval`), and answers until then (test/health/heartbeat.test.ts).
 */
export const atPoolStart = (p: Placement) => p.fault === 'wrongChain'

/** Places one or two faults on distinct endpoints; `undefined` when they cannot both be placed (two WebSocket faults, one WebSocket endpoint). */
export function place(faults: readonly FaultName[]): Cell | undefined {
  const free: Target[] = ['http0', 'http1']
  let wsTaken = false
  const placed: Placement[] = []
  for (const fault of faults) {
    if (fault === 'allDown') placed.push({ fault, target: 'all' })
    else if (fault in WS_MODES) {
      if (wsTaken) return undefined
      wsTaken = true
      placed.push({ fault, target: 'ws' })
    } else {
      const target = free.shift()
      if (target === undefined) return undefined
      placed.push({ fault, target })
    }
  }
  return { name: faults.join('+'), faults: placed }
}

export function singles(): Cell[] {
  return FAULTS.map((f) => place([f])!)
}

export function allPairs(): Cell[] {
  const cells: Cell[] = []
  for (let i = 0; i < FAULTS.length; i++) {
    for (let j = i + 1; j < FAULTS.length; j++) {
      const cell = place([FAULTS[i]!, FAULTS[j]!])
      if (cell) cells.push(cell)
    }
  }
  return cells
}

/** mulberry32: a tiny seeded generator, so a CI sample can be replayed with CHAOS_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export function samplePairs(count: number, seed: number): Cell[] {
  const pool = allPairs()
  const random = seededRandom(seed)
  // Partial Fisher–Yates: the first `count` of a seeded shuffle.
  for (let i = 0; i < Math.min(count, pool.length); i++) {
    const j = i + Math.floor(random() * (pool.length - i))
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, count)
}

/** Sets one placement's fault on its proxy (`allDown` is timed by the cell, see `setAllDown`). */
export function applyFault(node: ChaosNode, p: Placement): void {
  if (p.target === 'ws') node.ws.setMode(WS_MODES[p.fault]!)
  else if (p.target !== 'all') node.http[p.target === 'http0' ? 0 : 1].setMode(HTTP_MODES[p.fault]!)
}

/** Every endpoint unreachable: HTTP connections reset, WebSocket sockets dropped and refused. */
export function setAllDown(node: ChaosNode): void {
  for (const h of node.http) h.setMode({ kind: 'reset' })
  node.ws.setMode({ kind: 'drop' })
}

/** Every proxy back to pass-through, then the cell's standing faults again (after all-down). */
export function restore(node: ChaosNode, standing: readonly Placement[]): void {
  for (const h of node.http) h.setMode({ kind: 'pass' })
  node.ws.setMode({ kind: 'pass' })
  for (const p of standing) applyFault(node, p)
}

export function clearFaults(node: ChaosNode): void {
  restore(node, [])
}
