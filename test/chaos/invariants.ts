import type { ProxyEntry } from './node.js'
import type { LogEntry } from './picks.js'
import type { RequestRecord } from './workload.js'

/** What a cell observed, as plain data: the invariants below are pure functions of it. */
export type Observation = {
  attemptTimeout: number
  records: readonly RequestRecord[]
  /** Every `endpoint:state` event, with its arrival time. */
  statuses: ReadonlyArray<{ at: number; endpoint: string; to: string }>
  /** Intervals with no healthy endpoint (all down): requests overlapping them are exempt from `served`. */
  outages: ReadonlyArray<{ from: number; to: number }>
  /** Endpoints (redacted ids) set to a wrong chain from the pool's start, with their proxy's entries. */
  wrongChain: ReadonlyArray<{ endpoint: string; entries: readonly ProxyEntry[] }>
  /** Status events and attempt picks in the order the pool made them. */
  log: readonly LogEntry[]
  /** Endpoints whose head was frozen (lag). */
  lagging: ReadonlyArray<{ endpoint: string; mustDetect: boolean }>
  /** Event keys as the watcher delivered them (duplicates kept) and as anvil holds them at the end. */
  delivered: readonly string[]
  emitted: readonly string[]
  removedNotices: number
  /** After all-down: when proxies passed again, and the first success that completed after it. */
  recovery?: { at: number; servedAt: number | undefined }
  unhandledRejections: number
  /** Handles left after destroy() (empty: none). */
  leftHandles: readonly string[]
  /** Secrets found in the captured output, and how much was captured. */
  leaks: readonly string[]
  capturedChars: number
}

export type Verdict = { pass: boolean; detail?: string }
export type InvariantName = 'served' | 'deadline' | 'wrongChain' | 'monotonic' | 'lag' | 'events' | 'recovery' | 'unhandled' | 'handles' | 'secrets'
export const INVARIANTS: readonly InvariantName[] = ['served', 'deadline', 'wrongChain', 'monotonic', 'lag', 'events', 'recovery', 'unhandled', 'handles', 'secrets']

/** How far a request may outlive its deadline (ms). */
export const MAX_OVERRUN = 250
/** Methods the workload only ever sends with `latest`: a pick of one is a latest-state read. */
export const LATEST_ONLY = new Set(['eth_getBalance', 'eth_getTransactionCount'])
/** After all-down, the pool must serve again within this (ms). */
export const MAX_RECOVERY = 1_000

/** What the heartbeat asks a new connection before it decides whether it may serve. */
const HANDSHAKE = new Set(['eth_chainId', 'eth_blockNumber'])
const overlaps = (r: RequestRecord, w: { from: number; to: number }) => r.start <= w.to && r.end >= w.from

export function maxOverrun(records: readonly RequestRecord[]): number {
  let max = -Infinity
  for (const r of records) max = Math.max(max, r.end - r.start - r.timeout)
  return records.length === 0 ? 0 : max
}

function count(items: readonly string[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const k of items) m.set(k, (m.get(k) ?? 0) + 1)
  return m
}

export function checkAll(o: Observation): Record<InvariantName, Verdict> {
  const out = {} as Record<InvariantName, Verdict>

  // 1. With a healthy endpoint, a request with a deadline of at least twice the attempt timeout succeeds.
  const bound = o.records.filter((r) => r.timeout >= 2 * o.attemptTimeout && !o.outages.some((w) => overlaps(r, w)))
  const failed = bound.filter((r) => !r.ok)
  out.served = failed.length === 0 ? { pass: true } : { pass: false, detail: `${failed.length}/${bound.length} failed: ${summarise(failed)}` }

  // 2. No request outlives its deadline by more than MAX_OVERRUN.
  const overrun = maxOverrun(o.records)
  const late = o.records.filter((r) => r.end - r.start - r.timeout > MAX_OVERRUN)
  out.deadline = late.length === 0 ? { pass: true } : { pass: false, detail: `${late.length} late, worst ${overrun} ms past the deadline` }

  // 3. A wrong-chain endpoint is quarantined; before that it is asked only the handshake's chain id
  //    and head, after it only its chain id: nothing a user asked can have been answered by it.
  const wrong: string[] = []
  for (const w of o.wrongChain) {
    const quarantined = o.statuses.find((s) => s.endpoint === w.endpoint && s.to === 'quarantined')?.at
    if (quarantined === undefined) wrong.push(`${w.endpoint} never quarantined`)
    const other = w.entries.filter((e) => (quarantined === undefined || e.at >= quarantined ? e.method !== 'eth_chainId' : !HANDSHAKE.has(e.method)))
    if (other.length > 0) wrong.push(`${w.endpoint} asked ${other.length}× (${[...new Set(other.map((e) => e.method))].join(', ')})`)
  }
  out.wrongChain = verdict(wrong)

  // 4. eth_blockNumber never goes backwards: no answer below one that completed before the request began.
  const numbers = o.records.filter((r) => r.ok && r.block !== undefined).sort((x, y) => x.end - y.end)
  const backwards: string[] = []
  for (const r of numbers) {
    let seen: bigint | undefined
    for (const q of numbers) {
      if (q.end >= r.start) break
      if (seen === undefined || q.block! > seen) seen = q.block
    }
    if (seen !== undefined && r.block! < seen) backwards.push(`${r.block} after ${seen}`)
  }
  out.monotonic = verdict(backwards)

  // 5. Once the pool reports an endpoint lagging, no latest-state read reaches it; and it must find out.
  const lag: string[] = []
  for (const l of o.lagging) {
    if (l.mustDetect && !o.statuses.some((s) => s.endpoint === l.endpoint && s.to === 'lagging')) lag.push(`${l.endpoint} never reported lagging`)
    let status: string | undefined
    const served: string[] = []
    for (const e of o.log) {
      if (e.endpoint !== l.endpoint) continue
      if (e.kind === 'status') status = e.to
      else if (status === 'lagging' && LATEST_ONLY.has(e.method)) served.push(e.method)
    }
    if (served.length > 0) lag.push(`${served.length} latest reads sent to ${l.endpoint} after it was reported lagging (${[...new Set(served)].join(', ')})`)
  }
  out.lag = verdict(lag)

  // 6. The watcher delivered exactly the emitted events: each once, none missing, none extra.
  const got = count(o.delivered)
  const want = new Set(o.emitted)
  const missing = o.emitted.filter((k) => !got.has(k)).length
  const extra = [...got.keys()].filter((k) => !want.has(k)).length
  const dup = [...got.values()].filter((n) => n > 1).length
  const ev: string[] = []
  if (missing) ev.push(`${missing} missing`)
  if (extra) ev.push(`${extra} extra`)
  if (dup) ev.push(`${dup} duplicated`)
  if (o.removedNotices) ev.push(`${o.removedNotices} removed notices without a reorg`)
  if (o.emitted.length === 0) ev.push('nothing emitted: the check would be vacuous')
  out.events = verdict(ev)

  // 7. After all-down, served again within MAX_RECOVERY of the proxies passing.
  if (o.recovery === undefined) out.recovery = { pass: true, detail: 'n/a' }
  else if (o.recovery.servedAt === undefined) out.recovery = { pass: false, detail: 'never served again' }
  else {
    const ms = o.recovery.servedAt - o.recovery.at
    out.recovery = ms <= MAX_RECOVERY ? { pass: true, detail: `${ms} ms` } : { pass: false, detail: `${ms} ms` }
  }

  out.unhandled = o.unhandledRejections === 0 ? { pass: true } : { pass: false, detail: `${o.unhandledRejections} unhandled rejections` }
  out.handles = verdict(o.leftHandles.map((h) => `left: ${h}`))
  out.secrets = o.capturedChars === 0 ? { pass: false, detail: 'nothing captured: the scan would be vacuous' } : verdict(o.leaks)
  return out
}

function verdict(problems: readonly string[]): Verdict {
  return problems.length === 0 ? { pass: true } : { pass: false, detail: problems.join('; ') }
}

function summarise(records: readonly RequestRecord[]): string {
  const by = count(records.map((r) => `${r.kind}/${r.method} ${r.error?.code ?? '?'}`))
  const first = records[0]?.error?.message.split('\n')[0]?.slice(0, 160)
  return `${[...by].map(([k, n]) => `${n}× ${k}`).join(', ')} (first: ${first})`
}
