import type { CellResult } from './cell.js'
import { INVARIANTS } from './invariants.js'

/** The matrix as a Markdown table: one row per cell, each invariant ✓ or ✗, failures explained below it. */
export function matrixTable(results: readonly CellResult[]): string {
  const head = ['cell', 'requests', 'ok', 'failed', 'max overrun (ms)', 'events delivered/emitted', 'recovery (ms)', 'loop delay max (ms)', ...INVARIANTS]
  const rows = results.map((r) => [
    r.cell,
    String(r.requests),
    String(r.ok),
    String(r.failed),
    String(r.maxOverrun),
    `${r.delivered}/${r.emitted}`,
    r.recoveryMs === undefined ? '–' : String(r.recoveryMs),
    String(r.loopDelayMax),
    ...INVARIANTS.map((i) => (r.verdicts[i].pass ? '✓' : '✗')),
  ])
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)]
  const failures = results.flatMap((r) => INVARIANTS.filter((i) => !r.verdicts[i].pass).map((i) => `- ${r.cell} · ${i}: ${r.verdicts[i].detail ?? ''}`))
  return [...lines, '', failures.length === 0 ? 'Every invariant held in every cell.' : ['Failures:', ...failures].join('\n')].join('\n')
}

export function failuresOf(results: readonly CellResult[]): string[] {
  return results.flatMap((r) => INVARIANTS.filter((i) => !r.verdicts[i].pass).map((i) => `${r.cell} · ${i}: ${r.verdicts[i].detail ?? ''}`))
}
