import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os'
import { join } from 'node:path'

/** A Markdown table, padded so it also reads well in a terminal. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const cell = (s: string, i: number) => (align?.[i] === 'r' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => cell(c, i)).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (align?.[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}

/** Milliseconds with precision that suits their size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (value < 1) return value.toFixed(3)
  if (value < 100) return value.toFixed(2)
  return value.toFixed(0)
}

export function int(value: number): string {
  if (!Number.isFinite(value)) return '–'
  return Math.round(value).toLocaleString('en-US')
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–'
}

export function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(2)
}

export function pct(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (value === 1) return '100%'
  return `${(value * 100).toFixed(value > 0.99 ? 2 : 1)}%`
}

function packageVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

function gitCommit(root: string): string | undefined {
  try {
    // rev-parse only reads; it never touches the index.
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

/** Lines describing the machine and versions, for the header of every report. */
export function machineInfo(root: string, anvilVersion: string | undefined): string[] {
  const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  const commit = gitCommit(root)
  const cpu = cpus()[0]
  return [
    `CPU: ${cpu?.model.trim() ?? 'unknown'}${cpu?.speed ? ` @ ${cpu.speed} MHz` : ''}, ${availableParallelism()} cores available; ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `OS: ${process.platform} ${release()} ${process.arch}; Node ${process.version}`,
    `resilient-rpc ${own.version}${commit ? ` (commit ${commit}, working tree src/ as bundled by esbuild)` : ' (src/ as bundled by esbuild)'}; ethers ${packageVersion(root, 'ethers')}; viem ${packageVersion(root, 'viem')}; anvil ${anvilVersion ?? 'not used'}`,
  ]
}
