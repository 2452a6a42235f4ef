import type { EndpointConfig, EndpointStats, PoolEvents, PoolStats } from '../src/index.js'
import type { FaultMode } from '../test/support/faultProxy.js'
import { describeMode, schedule, type Phase } from './scenario.js'
import { pending, type Counts } from './tally.js'

/** Everything one redraw shows; built from `pool.stats()`, pool events and the tally. */
export type Frame = {
  elapsedMs: number
  durationMs: number
  phases: readonly Phase[]
  phaseIndex: number
  stats: PoolStats
  modes: readonly FaultMode[]
  /** Share of the answers each endpoint gave over the last few seconds (0..1), by index. */
  shares: readonly (number | undefined)[]
  totals: Counts
  /** Most recent pool events, oldest first. */
  events: readonly string[]
}

const RESET = '\x1b[0m'
const paint = (color: boolean, code: string, s: string) => (color ? `\x1b[${code}m${s}${RESET}` : s)

const STATE_COLOR: Record<string, string> = { up: '32', lagging: '33', ahead: '33', cooldown: '33', connecting: '36', down: '31', quarantined: '31', unauthorized: '31' }
const BREAKER_COLOR: Record<string, string> = { closed: '32', 'half-open': '33', open: '31' }

const dash = '–'
const num = (v: bigint | number | undefined) => (v === undefined ? dash : String(v))
export const percent = (v: number | undefined) => (v === undefined ? dash : `${Math.round(v * 100)}%`)
export const millis = (v: number | undefined) => (v === undefined ? dash : `${Math.round(v)} ms`)

// eslint-disable-next-line no-control-regex
const stripLength = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length

/** Pads to a visible width, ignoring ANSI colour codes. */
function pad(s: string, width: number, right = false): string {
  const visible = stripLength(s)
  const fill = ' '.repeat(Math.max(0, width - visible))
  return right ? fill + s : s + fill
}

export function endpointRows(stats: PoolStats, modes: readonly FaultMode[], shares: readonly (number | undefined)[], color: boolean): string[] {
  const headers = ['endpoint', 'injected', 'state', 'breaker', 'head', 'lag', 'in-flight', 'latency', 'share']
  const right = [false, false, false, false, true, true, true, true, true]
  const rows = stats.endpoints.map((e: EndpointStats, i) => [
    e.endpoint,
    describeMode(modes[i] ?? { kind: 'pass' }),
    paint(color, STATE_COLOR[e.status] ?? '0', e.status),
    paint(color, BREAKER_COLOR[e.breaker] ?? '0', e.breaker),
    num(e.head),
    num(e.lag),
    String(e.inFlight),
    millis(e.latencyEwma),
    percent(shares[i]),
  ])
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => stripLength(r[c]!))))
  const line = (cells: readonly string[]) => cells.map((cell, c) => pad(cell, widths[c]!, right[c])).join('  ')
  return [paint(color, '1', line(headers)), ...rows.map(line)]
}

/**
 * The demo's endpoints: `urls` (http://127.0.0.1:PORT, any path accepted) with a stand-in API key in
 * each place providers put one — path, query, userinfo — and one in a header.
 */
export function keyedEndpoints(urls: readonly string[]): EndpointConfig[] {
  return urls.map((url, i) => {
    if (i % 3 === 0) return `${url}/v3/demo-secret-key-${i}`
    if (i % 3 === 1) return `${url}/rpc?apikey=demo-secret-key-${i}`
    const { host } = new URL(url)
    return { url: `http://demo:demo-secret-key-${i}@${host}/`, headers: { 'X-Api-Key': `demo-secret-key-${i}-header` } }
  })
}

/** An `endpoint:state` event as an event line: the redacted id and the reason's short message. */
export function stateEventText(e: PoolEvents['endpoint:state'][0]): string {
  return `${e.endpoint}: ${e.from} → ${e.to}${e.reason ? ` (${e.reason.shortMessage})` : ''}`
}

/** A bar through the storm, one segment per phase, the current phase named under it. */
export function progressLines(frame: Pick<Frame, 'elapsedMs' | 'durationMs' | 'phases' | 'phaseIndex'>, color: boolean, width = 48): string[] {
  const { elapsedMs, durationMs, phases, phaseIndex } = frame
  const done = Math.min(width, Math.round((Math.min(elapsedMs, durationMs) / durationMs) * width))
  const bar = '█'.repeat(done) + '░'.repeat(width - done)
  const names = schedule(durationMs, phases)
    .map((s) => (s.index === phaseIndex ? paint(color, '1;7', ` ${s.phase.name} `) : s.index < phaseIndex ? paint(color, '2', s.phase.name) : s.phase.name))
    .join(' › ')
  const phase = phases[phaseIndex]!
  const seconds = `${(Math.min(elapsedMs, durationMs) / 1000).toFixed(1)}s / ${(durationMs / 1000).toFixed(0)}s`
  return [`storm [${bar}] ${seconds}`, `phase ${phaseIndex + 1}/${phases.length}: ${names}`, `       ${phase.story}`]
}

export function totalsLine(t: Counts, color: boolean): string {
  const parts = [
    `${t.started} started`,
    paint(color, '32', `${t.ok} ok`),
    paint(color, t.failed ? '31' : '0', `${t.failed} failed`),
    paint(color, t.timedOut ? '33' : '0', `${t.timedOut} timed out`),
    `${pending(t)} in flight`,
  ]
  return `requests: ${parts.join(' · ')}`
}

/** The live view, for a terminal: redrawn in place. */
export function renderFrame(frame: Frame, color: boolean): string[] {
  return [
    paint(color, '1', 'resilient-rpc live demo') + '  (Ctrl-C stops it cleanly)',
    '',
    ...progressLines(frame, color),
    '',
    ...endpointRows(frame.stats, frame.modes, frame.shares, color),
    '',
    `reference head ${num(frame.stats.referenceHead)}`,
    totalsLine(frame.totals, color),
    '',
    paint(color, '1', 'recent pool events'),
    ...(frame.events.length ? frame.events.map((e) => `  ${e}`) : ['  (none yet)']),
  ]
}

/** The same frame as one line, for logs and pipes (no ANSI). */
export function plainLine(frame: Frame): string {
  const t = frame.totals
  const endpoints = frame.stats.endpoints
    .map((e, i) => `${e.endpoint} ${e.status}/${e.breaker} head=${num(e.head)} lag=${num(e.lag)} inflight=${e.inFlight} share=${percent(frame.shares[i])}`)
    .join(' | ')
  const phase = frame.phases[frame.phaseIndex]!.name
  return `t=${(frame.elapsedMs / 1000).toFixed(0).padStart(3)}s phase=${phase} ok=${t.ok} failed=${t.failed} timedout=${t.timedOut} inflight=${pending(t)} | ${endpoints}`
}

/**
 * Writes frames to a terminal, each over the last one. Only the lines written are cleared, so
 * whatever was on the screen before the demo stays there.
 */
export function createTerminal(out: NodeJS.WriteStream) {
  let lines = 0
  return {
    draw(text: readonly string[]) {
      const up = lines > 0 ? `\x1b[${lines}F` : ''
      out.write(`${up}\x1b[J${text.join('\n')}\n`)
      lines = text.length
    },
    hideCursor: () => out.write('\x1b[?25l'),
    showCursor: () => out.write('\x1b[?25h'),
  }
}
