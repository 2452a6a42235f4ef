import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createPool, watchEvents, type RpcLog } from '../../src/index.js'
import { counterAbi, counterBytecode } from '../fixtures/contracts/counter.js'
import { waitFor } from '../support/async.js'
import { createCapture, secretNeedles } from './capture.js'
import { ATTEMPT_TIMEOUT, chaosPoolOptions } from './cell.js'
import { applyFault, clearFaults, FAULTS, place, seededRandom, setAllDown, type FaultName } from './faults.js'
import { startChaosNode } from './node.js'
import { startWorkload } from './workload.js'

export type SoakOptions = {
  /** How long faults roll (ms). */
  durationMs: number
  /** Report interval (ms). @default 60_000 */
  reportEvery?: number
  /** How long each fault is held (ms). @default 10_000 */
  faultEvery?: number
  /** Heap growth allowed from the first report to the last (bytes). @default 16 MiB */
  maxHeapGrowth?: number
  seed?: number
  log?: (line: string) => void
}

export type SoakReport = { atMs: number; heapUsed: number; handles: number; ok: number; failed: number; lost: number; errors: Record<string, number>; fault: string }

export type SoakResult = {
  reports: SoakReport[]
  ok: number
  failed: number
  /** Requests that never settled (or settled > 1 s past their deadline, still pending at a report). */
  lost: number
  /** Events emitted that the watcher never delivered, or delivered twice. */
  eventsLost: number
  heapGrowth: number
  leaks: string[]
  unhandledRejections: number
  /** Why the soak failed; empty when it passed. */
  problems: string[]
}

/** A full GC without --expose-gc: turn the flag on at runtime and take `gc` from a fresh context. */
function collector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc
  if (existing) return existing
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

// wrongChain is left out: a quarantine lasts the pool's life, so after one round it would no longer be a rolling fault.
const ROLLING: FaultName[] = FAULTS.filter((f) => f !== 'wrongChain')
const LOST_GRACE = 1_000
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * One pool, never recreated, under rolling faults (one at a time, each held `faultEvery`, all-down for
 * 2 s when its turn comes) while the chaos workload and a watcher run. Reports heap after GC, active
 * handles, requests and errors by code every `reportEvery`.
 */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? ((line: string) => console.log(line))
  const gc = collector()
  const random = seededRandom(o.seed ?? 1)
  const node = await startChaosNode()
  let unhandled = 0
  const onUnhandled = () => unhandled++
  process.on('unhandledRejection', onUnhandled)
  const problems: string[] = []
  const reports: SoakReport[] = []
  try {
    const [deployer] = await node.anvil.rpc<string[]>('eth_accounts')
    const deployed = await node.anvil.transact({ from: deployer, data: counterBytecode + '0'.repeat(64) })
    const address = deployed.contractAddress!
    const fromBlock = BigInt(deployed.blockNumber)
    const capture = createCapture(secretNeedles())
    const pool = createPool(chaosPoolOptions(node, capture))
    const detach = capture.attach(pool)
    await pool.ready({ minHealthy: 3, timeout: 10_000 })

    const delivered = new Map<string, number>()
    const watcher = watchEvents(pool, { address, abi: counterAbi, eventName: 'Ping', fromBlock, pollInterval: 100, onError: (e) => capture.error(e) }, (e) => {
      const k = `${e.blockHash}:${e.logIndex}`
      delivered.set(k, (delivered.get(k) ?? 0) + 1)
    })
    let ok = 0
    let failed = 0
    let errors: Record<string, number> = {}
    const workload = startWorkload({
      pool,
      anvil: node.anvil,
      address,
      deployedAt: fromBlock,
      capture,
      attemptTimeout: ATTEMPT_TIMEOUT,
      keep: false,
      onRecord(r) {
        if (r.ok) ok++
        else {
          failed++
          errors[r.error!.code] = (errors[r.error!.code] ?? 0) + 1
        }
      },
    })

    const began = Date.now()
    const reportEvery = o.reportEvery ?? 60_000
    const faultEvery = o.faultEvery ?? 10_000
    let fault = 'none'
    let nextReport = began + reportEvery
    let nextFault = began
    let lostSeen = 0
    let allUp: NodeJS.Timeout | undefined
    while (Date.now() < began + o.durationMs) {
      const now = Date.now()
      if (now >= nextFault) {
        clearTimeout(allUp)
        clearFaults(node)
        const name = ROLLING[Math.floor(random() * ROLLING.length)]!
        // The fault lands on a random endpoint of the kind it needs (place() puts HTTP faults on http0).
        const cell = place([name])!
        const p = cell.faults[0]!
        if (p.target === 'http0' && random() < 0.5) p.target = 'http1'
        if (name === 'allDown') {
          setAllDown(node)
          allUp = setTimeout(() => clearFaults(node), 2_000)
        } else applyFault(node, p)
        fault = `${name}@${p.target}`
        nextFault = now + faultEvery
      }
      if (now >= nextReport) {
        // The harness's own logs (each proxy's entries and arrival times) grow with every request;
        // cleared before the heap is read, so the heap shows the pool, its watcher and the workload.
        node.entries[0].length = 0
        node.entries[1].length = 0
        for (const proxy of [...node.http, node.ws]) proxy.resetCounts()
        gc()
        lostSeen = Math.max(lostSeen, workload.overdue(LOST_GRACE))
        capture.stats(pool)
        const r: SoakReport = { atMs: now - began, heapUsed: process.memoryUsage().heapUsed, handles: process.getActiveResourcesInfo().length, ok, failed, lost: lostSeen, errors, fault }
        reports.push(r)
        log(`soak ${(r.atMs / 60_000).toFixed(1)} min: heap ${(r.heapUsed / 2 ** 20).toFixed(1)} MiB, handles ${r.handles}, ok ${ok}, failed ${failed}, lost ${lostSeen}, errors ${JSON.stringify(errors)}, fault ${fault}`)
        errors = {}
        nextReport = now + reportEvery
      }
      await sleep(Math.max(10, Math.min(nextFault, nextReport) - Date.now()))
    }
    clearTimeout(allUp)
    clearFaults(node)

    // Every request must settle: whatever is still pending a while after the last deadline is lost.
    const stopped = workload.stop()
    const lastDeadline = sleep(3 * ATTEMPT_TIMEOUT + LOST_GRACE)
    await Promise.race([stopped, lastDeadline])
    const lost = Math.max(lostSeen, workload.pending())

    const emitted = async () => (await node.anvil.rpc<RpcLog[]>('eth_getLogs', [{ address, fromBlock: `0x${fromBlock.toString(16)}`, toBlock: 'latest' }])).map((l) => `${l.blockHash}:${Number(l.logIndex)}`)
    await sleep(1_500)
    const want = await emitted()
    await waitFor(() => want.every((k) => delivered.has(k)), 'the watcher to catch up', 10_000).catch(() => {})
    const eventsLost = want.filter((k) => delivered.get(k) !== 1).length + [...delivered.keys()].filter((k) => !want.includes(k)).length
    await watcher.stop()
    detach()
    await pool.destroy()
    await stopped

    gc()
    const first = reports[0]?.heapUsed ?? process.memoryUsage().heapUsed
    const last = reports.at(-1)?.heapUsed ?? first
    const heapGrowth = last - first
    const maxGrowth = o.maxHeapGrowth ?? 16 * 2 ** 20
    if (lost > 0) problems.push(`${lost} requests lost`)
    if (eventsLost > 0) problems.push(`${eventsLost} events lost or repeated`)
    if (heapGrowth > maxGrowth) problems.push(`heap grew ${(heapGrowth / 2 ** 20).toFixed(1)} MiB (bound ${(maxGrowth / 2 ** 20).toFixed(1)})`)
    if (capture.leaks().length > 0) problems.push(`secrets in output: ${capture.leaks().join('; ')}`)
    if (unhandled > 0) problems.push(`${unhandled} unhandled rejections`)
    if (ok === 0) problems.push('nothing succeeded')
    log(`soak done: ok ${ok}, failed ${failed}, lost ${lost}, events ${want.length} emitted / ${eventsLost} lost, heap growth ${(heapGrowth / 2 ** 20).toFixed(1)} MiB, ${problems.length === 0 ? 'PASS' : `FAIL: ${problems.join('; ')}`}`)
    return { reports, ok, failed, lost, eventsLost, heapGrowth, leaks: capture.leaks(), unhandledRejections: unhandled, problems }
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await node.stop()
  }
}
