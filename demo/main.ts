// `npm run demo`: the pool through a scripted storm, live. Bundled and started by demo/run.mjs.
// It never calls process.exit: it ends when everything it started has stopped, so a leaked timer,
// socket or child process would show as a demo that does not end.
import { setMaxListeners } from 'node:events'
import { createContract, createPool, type Pool, type PoolStats } from '../src/index.js'
import { CHAIN_ID, counterAbi, createSender, startLab, type Lab } from './chain.js'
import { parseDemoArgs, USAGE, UsageError, type DemoOptions } from './options.js'
import { PHASES, phaseIndexAt } from './scenario.js'
import { KINDS, pending, settled, Tally } from './tally.js'
import { createTerminal, keyedEndpoints, plainLine, renderFrame, stateEventText, type Frame } from './view.js'

const READ_TIMEOUT = 8_000
const TRANSFER_TIMEOUT = 15_000
const WORKLOAD_TICK = 100
const TRANSFER_GAP = 1_500
const SHARE_WINDOW = 3_000
const MAX_EVENTS = 6

type Counters = { stateChanges: number; breakerOpens: number; hedges: number; retries: number }

async function main(): Promise<number> {
  let options: DemoOptions
  try {
    options = parseDemoArgs(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`demo: ${error.message}\n\n${USAGE}\n`)
    return 2
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }

  const live = process.stdout.isTTY === true && !options.plain
  const color = live && !process.env.NO_COLOR
  const say = (line: string) => process.stdout.write(`${line}\n`)

  // Ctrl-C aborts every request in flight (each settles as aborted) and then runs the same shutdown.
  const interrupt = new AbortController()
  // Every request in flight listens on this one signal (and removes its listener when it settles).
  setMaxListeners(0, interrupt.signal)
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = signal
    interrupt.abort(new Error(`interrupted by ${signal}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let lab: Lab | undefined
  let pool: Pool | undefined
  const timers: NodeJS.Timeout[] = []
  const terminal = createTerminal(process.stdout)
  try {
    say('starting anvil and three fault proxies…')
    lab = await startLab({ blockMs: options.blockMs })
    if (interrupt.signal.aborted) return 130
    say(`anvil listening on port ${lab.anvil.port}; proxies on ports ${lab.proxies.map((p) => p.port).join(', ')}`)

    pool = createPool({
      // Each endpoint carries a stand-in for a provider's API key where providers put one: the path,
      // the query, userinfo and a header. The pool shows endpoints only by their redacted id
      // (scheme://host:port#index), so none of them appears below (test/demo/demo.test.ts checks).
      endpoints: keyedEndpoints(lab.proxies.map((p) => p.url)),
      chainId: CHAIN_ID,
      attemptTimeout: 1_000,
      defaultTimeout: READ_TIMEOUT,
      heartbeat: { interval: 500, timeout: 400 },
      breaker: { resetTimeout: 2_000 },
      maxLag: 3,
      // With back-off (≤ 2 s) this rides through a few seconds of total outage instead of failing fast.
      retries: 5,
    })
    const activePool = pool
    const events: string[] = []
    const counters: Counters = { stateChanges: 0, breakerOpens: 0, hedges: 0, retries: 0 }
    const storm0 = { at: 0 }
    const note = (text: string) => {
      const line = `${((Date.now() - storm0.at) / 1000).toFixed(1).padStart(5)}s  ${text}`
      events.push(line)
      if (events.length > MAX_EVENTS) events.shift()
      if (!live && storm0.at > 0) say(`event ${line.trim()}`)
    }
    pool.on('endpoint:state', (e) => {
      counters.stateChanges++
      note(stateEventText(e))
    })
    pool.on('circuit:open', (e) => {
      counters.breakerOpens++
      note(`${e.endpoint}: breaker open`)
    })
    pool.on('circuit:halfOpen', (e) => note(`${e.endpoint}: breaker half-open`))
    pool.on('circuit:close', (e) => note(`${e.endpoint}: breaker closed`))
    pool.on('request:hedge', () => counters.hedges++)
    pool.on('request:retry', () => counters.retries++)

    await pool.ready({ minHealthy: 3, timeout: 10_000, signal: interrupt.signal })
    const sender = createSender(pool, lab.anvil)
    const address = await sender.deployCounter(interrupt.signal)
    const counter = createContract(pool, address, counterAbi)
    // Confirmation-depth reads look 3 blocks back: the contract must already be there.
    const deployed = pool.referenceHead() ?? 0n
    await lab.anvil.mine(4)
    await waitUntil(() => (activePool.referenceHead() ?? 0n) >= deployed + 4n, 10_000, interrupt.signal)
    say(`Counter deployed at ${address}; storm of ${options.durationMs / 1000} s starts now`)

    // The storm: phases switch the proxies' faults; the workload runs through all of them.
    const tally = new Tally()
    const signal = interrupt.signal
    const lab_ = lab
    storm0.at = Date.now()
    let phaseIndex = -1
    let tick = 0
    // Aborted when the storm ends (or on Ctrl-C): no new transfer starts, the pause between them ends.
    const stopTransfers = new AbortController()
    signal.addEventListener('abort', () => stopTransfers.abort(), { once: true })
    const shares = createShareWindow()
    const frame = (): Frame => {
      const stats = activePool.stats()
      return {
        elapsedMs: Date.now() - storm0.at,
        durationMs: options.durationMs,
        phases: PHASES,
        phaseIndex: Math.max(0, phaseIndex),
        stats,
        modes: lab_.proxies.map((p) => p.mode()),
        shares: shares.update(stats),
        totals: tally.total(),
        events,
      }
    }

    const stormOver = new Promise<void>((resolve) => {
      const step = () => {
        const elapsed = Date.now() - storm0.at
        if (elapsed >= options.durationMs || signal.aborted) return resolve()
        const next = phaseIndexAt(elapsed, options.durationMs)
        if (next !== phaseIndex) {
          phaseIndex = next
          const phase = PHASES[next]!
          lab_.proxies.forEach((p, i) => p.setMode(phase.modes[i]!))
          note(`phase ${next + 1}/${PHASES.length} “${phase.name}”: ${phase.story}`)
        }
        tally.track('read', () => counter.read('value', [], { timeout: READ_TIMEOUT, signal }))
        if (tick++ % 2 === 0) tally.track('confirmed read', () => counter.read('value', [], { confirmations: 3, timeout: READ_TIMEOUT, signal }))
      }
      step()
      timers.push(setInterval(step, WORKLOAD_TICK))
    })

    const transfers = (async () => {
      while (!stopTransfers.signal.aborted) {
        await tally.track('transfer', () => sender.transfer({ timeout: TRANSFER_TIMEOUT, signal }))
        await pause(TRANSFER_GAP, stopTransfers.signal)
      }
    })()

    if (live) {
      terminal.hideCursor()
      timers.push(setInterval(() => terminal.draw(renderFrame(frame(), color)), 200))
    } else {
      timers.push(setInterval(() => say(plainLine(frame())), 1_000))
    }

    await stormOver
    stopTransfers.abort()
    for (const t of timers.splice(0)) clearInterval(t)
    // Stop starting, then let everything started finish under its own deadline.
    const drainStart = Date.now()
    if (!live) say(`storm over; waiting for ${pending(tally.total())} requests still in flight…`)
    await tally.drain(TRANSFER_TIMEOUT + 2_000)
    await transfers
    const last = frame()
    if (live) terminal.draw(renderFrame(last, color))
    else say(plainLine(last))

    const total = tally.total()
    const lost = pending(total)
    const lines = [
      '',
      'summary',
      `  storm            ${(options.durationMs / 1000).toFixed(0)} s, ${PHASES.length} phases (${PHASES.map((p) => p.name).join(', ')})${interrupted ? `, interrupted by ${interrupted}` : ''}`,
      `  requests         ${total.started} started, ${settled(total)} settled: ${total.ok} ok, ${total.failed} failed, ${total.timedOut} timed out, ${total.aborted} aborted`,
      `  lost or pending  ${lost}`,
      `  by kind          ${KINDS.map((k) => `${k} ${tally.byKind.get(k)!.ok}/${tally.byKind.get(k)!.started} ok`).join(' · ')}`,
      `  errors           ${tally.errors.size ? [...tally.errors].map(([code, n]) => `${code} ×${n}`).join(', ') : 'none'}`,
      `  pool events      ${counters.stateChanges} state changes, ${counters.breakerOpens} breaker opens, ${counters.hedges} hedged reads, ${counters.retries} retries`,
      `  endpoints now    ${last.stats.endpoints.map((e) => `${e.endpoint} ${e.status}`).join(' · ')}`,
      `  drain            ${((Date.now() - drainStart) / 1000).toFixed(1)} s after the storm`,
      lost === 0 && total.started > 0
        ? `result: every request settled (${total.started} started, none lost, none pending)`
        : `result: FAILED: ${total.started === 0 ? 'no request was started' : `${lost} request(s) never settled`}`,
      `DEMO RESULT started=${total.started} settled=${settled(total)} ok=${total.ok} failed=${total.failed} timedout=${total.timedOut} aborted=${total.aborted} lost=${lost}`,
    ]
    say(lines.join('\n'))
    if (interrupted) return 130
    return lost === 0 && total.started > 0 ? 0 : 1
  } catch (error) {
    if (interrupted) {
      say(`\ninterrupted by ${interrupted}`)
      return 130
    }
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  } finally {
    for (const t of timers) clearInterval(t)
    if (live) terminal.showCursor()
    await pool?.destroy()
    await lab?.stop()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (lab) say('stopped: pool, three proxies, anvil')
  }
}

/** Polls `check` until it holds; throws after `ms`. */
async function waitUntil(check: () => boolean, ms: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    signal.throwIfAborted()
    if (Date.now() > until) throw new Error(`the pool did not see the new blocks within ${ms} ms`)
    await pause(50, signal)
  }
}

/** Resolves after `ms`, or at once when `stop` aborts. */
function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      stop.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    stop.addEventListener('abort', done, { once: true })
  })
}

/** Share of answers per endpoint over the last few seconds, from successive `served` counters. */
function createShareWindow() {
  const history: Array<{ at: number; served: number[] }> = []
  return {
    update(stats: PoolStats): (number | undefined)[] {
      const now = Date.now()
      const served = stats.endpoints.map((e) => e.served)
      history.push({ at: now, served })
      while (history.length > 1 && history[0]!.at < now - SHARE_WINDOW) history.shift()
      const first = history[0]!.served
      const delta = served.map((s, i) => s - (first[i] ?? 0))
      const sum = delta.reduce((a, b) => a + b, 0)
      return delta.map((d) => (sum > 0 ? d / sum : undefined))
    },
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`demo crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  },
)
