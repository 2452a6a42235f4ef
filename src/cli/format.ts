import { isResilientRpcError, type PoolStats } from '../index.js'

/** JSON with bigints as decimal strings (JSON has no bigint) and ethers `Result`s as plain arrays. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(plain(value), null, indent)
}

/** Converts decoded ABI values to JSON-safe data: bigint → decimal string, Result → array. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return Array.from(value, plain)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

/** A result as a person reads it: strings and numbers bare, anything else as indented JSON. */
export function formatResult(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === null || value === undefined) return String(value)
  return toJson(value, 2)
}

export type HealthRow = {
  endpoint: string
  chainId: string | undefined
  head: string | undefined
  lag: string | undefined
  latencyMs: number | undefined
  state: string
  breaker: string
  /** Why it is not up (redacted), when it is not. */
  reason: string | undefined
}

/** One row per endpoint; a `connecting` endpoint that never answered within the wait says so. */
export function healthRows(stats: PoolStats): HealthRow[] {
  return stats.endpoints.map((e) => ({
    endpoint: e.endpoint,
    chainId: e.chainId?.toString(),
    head: e.head?.toString(),
    lag: e.lag?.toString(),
    latencyMs: e.latencyEwma === undefined ? undefined : Math.round(e.latencyEwma),
    state: e.status,
    breaker: e.breaker,
    reason: e.statusReason ?? (e.status === 'connecting' ? 'no answer yet' : e.status === 'up' ? undefined : e.lastError?.message),
  }))
}

/** Endpoints that can serve now: `up` (lagging, cooling-down, … ones cannot take latest reads). */
export function healthyCount(rows: readonly HealthRow[]): number {
  return rows.filter((r) => r.state === 'up').length
}

/** A text table padded to column width; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

export function healthTable(rows: readonly HealthRow[]): string {
  const dash = '–'
  return table(
    ['endpoint', 'chain', 'head', 'lag', 'latency', 'state', 'note'],
    rows.map((r) => [r.endpoint, r.chainId ?? dash, r.head ?? dash, r.lag ?? dash, r.latencyMs === undefined ? dash : `${r.latencyMs} ms`, r.state, r.reason ?? '']),
    [false, true, true, true, true, false, false],
  )
}

/** An error as the CLI shows it: the library's (already redacted) message, with its code. */
export function describeError(error: unknown): { code: string; message: string } {
  if (isResilientRpcError(error)) return { code: error.code, message: error.message }
  if (error instanceof Error) return { code: 'ERROR', message: error.message }
  return { code: 'ERROR', message: String(error) }
}
