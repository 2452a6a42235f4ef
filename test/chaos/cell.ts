import { Socket } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createPickLog } from './picks.js'
import { createPool, watchEvents, type Pool, type PoolOptions, type RpcLog } from '../../src/index.js'
import { counterAbi, counterBytecode } from '../fixtures/contracts/counter.js'
import { waitFor } from '../support/async.js'
import { createCapture, secretEndpoints, secretNeedles, type Capture } from './capture.js'
import { applyFault, atPoolStart, clearFaults, restore, setAllDown, type Cell } from './faults.js'
import { checkAll, maxOverrun, type InvariantName, type Observation, type Verdict } from './invariants.js'
import type { ChaosNode } from './node.js'
import { startWorkload } from './workload.js'

export const ATTEMPT_TIMEOUT = 1_000

/** Tight but realistic: a cell lasts seconds, so health must be known within a fraction of one. */
export function chaosPoolOptions(node: ChaosNode, capture: Capture, tracer?: PoolOptions['tracer']): PoolOptions {
  return {
    endpoints: secretEndpoints(node),
    chainId: 31337,
    attemptTimeout: ATTEMPT_TIMEOUT,
    defaultTimeout: 3 * ATTEMPT_TIMEOUT,
    heartbeat: { interval: 250, timeout: 500 },
    // One block behind is normal at a 1 s block time and a 250 ms heartbeat; two is a frozen head.
    maxLag: 1,
    breaker: { resetTimeout: 1_000 },
    webSocket: { reconnect: { initial: 100, max: 1_000 }, keepalive: { interval: 500, timeout: 500 } },
    logger: capture.logger,
    // Most verbose: nothing suppressed, so the secret scan sees every message.
    logRateLimit: { max: 1_000_000 },
    ...(tracer ? { tracer } : {}),
  }
}

export type CellTiming = {
  /** Workload before the faults (ms). */
  warm: number
  /** Faults held (ms). */
  hold: number
  /** Within `hold`, all-down starts this long after the faults (ms) … */
  downAfter: number
  /** … and lasts this long (ms). */
  downFor: number
  /** Workload after the faults are cleared (ms). */
  calm: number
}

export const DEFAULT_TIMING: CellTiming = { warm: 500, hold: 4_000, downAfter: 1_000, downFor: 2_000, calm: 1_500 }

export type CellResult = {
  cell: string
  requests: number
  ok: number
  failed: number
  maxOverrun: number
  delivered: number
  emitted: number
  recoveryMs: number | undefined
  verdicts: Record<InvariantName, Verdict>
  /** Pieces captured per source, for the record that the scan had something to scan. */
  captured: Record<string, number>
  durationMs: number
  /** Worst event-loop delay during the cell (ms): context for the deadline column on a loaded machine. */
  loopDelayMax: number
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const logKey = (l: { blockHash: string; logIndex: string | number; transactionHash: string }) => `${l.blockHash}:${BigInt(l.logIndex)}:${l.transactionHash}`

/** Resource types now, plus our own client sockets to the proxies (the only ones the pool opens). */
function handles(node: ChaosNode): { types: Map<string, number>; poolSockets: number } {
  const types = new Map<string, number>()
  for (const t of process.getActiveResourcesInfo()) if (t !== 'TCPSocketWrap') types.set(t, (types.get(t) ?? 0) + 1)
  const ports = new Set([node.http[0].port, node.http[1].port, node.ws.port])
  // getActiveResourcesInfo names types only; sockets must be told apart from the proxies' and undici's.
  const active = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()
  const poolSockets = active.filter((h) => h instanceof Socket && ports.has(h.remotePort ?? -1)).length
  return { types, poolSockets }
}

function leftOver(before: ReturnType<typeof handles>, after: ReturnType<typeof handles>): string[] {
  const left: string[] = []
  for (const [t, n] of after.types) if (n > (before.types.get(t) ?? 0)) left.push(`${n - (before.types.get(t) ?? 0)}× ${t}`)
  if (after.poolSockets > 0) left.push(`${after.poolSockets}× socket to a proxy`)
  return left
}

/**
 * Runs one cell: a fresh contract and pool, the workload and a watcher, the faults (timed as
 * `timing` says), then the invariants over what was observed.
 */
export async function runCell(node: ChaosNode, cell: Cell, timing: CellTiming = DEFAULT_TIMING): Promise<CellResult> {
  const began = Date.now()
  node.resetProxies()
  const [deployer] = await node.anvil.rpc<string[]>('eth_accounts')
  const deployed = await node.anvil.transact({ from: deployer, data: counterBytecode + '0'.repeat(64) })
  const address = deployed.contractAddress!
  const fromBlock = BigInt(deployed.blockNumber)

  const standing = cell.faults.filter((p) => p.fault !== 'allDown')
  const hasAllDown = cell.faults.some((p) => p.fault === 'allDown')
  for (const p of standing.filter(atPoolStart)) applyFault(node, p)

  let unhandled = 0
  const onUnhandled = () => unhandled++
  process.on('unhandledRejection', onUnhandled)

  const before = handles(node)
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const capture = createCapture(secretNeedles())
  const picks = createPickLog()
  const pool: Pool = createPool(chaosPoolOptions(node, capture, picks.tracer))
  const detach = capture.attach(pool)
  const ids = pool.stats().endpoints.map((e) => e.endpoint)
  const idOf = (target: string) => ids[target === 'http0' ? 0 : target === 'http1' ? 1 : 2]!
  const statuses: Array<{ at: number; endpoint: string; to: string }> = []
  const onState = (e: { endpoint: string; to: string }) => {
    statuses.push({ at: Date.now(), endpoint: e.endpoint, to: e.to })
    picks.status(e.endpoint, e.to)
  }
  pool.on('endpoint:state', onState)

  const healthy = 3 - standing.filter(atPoolStart).length
  await pool.ready({ minHealthy: healthy, timeout: 10_000 })

  const delivered: string[] = []
  let removedNotices = 0
  const watcher = watchEvents(
    pool,
    { address, abi: counterAbi, eventName: 'Ping', fromBlock, pollInterval: 100, retryBackoff: { initial: 50, max: 500 }, onError: (e) => capture.error(e) },
    (e) => {
      if (e.removed) removedNotices++
      else delivered.push(logKey(e))
    },
  )
  const workload = startWorkload({ pool, anvil: node.anvil, address, deployedAt: fromBlock, capture, attemptTimeout: ATTEMPT_TIMEOUT })
  const statsTimer = setInterval(() => capture.stats(pool), 500)

  const outages: Array<{ from: number; to: number }> = []
  let recovery: Observation['recovery']
  try {
    await sleep(timing.warm)
    const faultAt = Date.now()
    for (const p of standing.filter((p) => !atPoolStart(p))) applyFault(node, p)
    if (hasAllDown) {
      await sleep(timing.downAfter)
      const from = Date.now()
      setAllDown(node)
      await sleep(timing.downFor)
      restore(node, standing)
      const at = Date.now()
      outages.push({ from, to: at })
      await workload.probeUntilServed(3_000)
      recovery = { at, servedAt: undefined }
    }
    await sleep(Math.max(0, faultAt + timing.hold - Date.now()))
    clearFaults(node)
    await sleep(timing.calm)
  } finally {
    clearInterval(statsTimer)
    await workload.stop()
  }

  // The emitted set is anvil's own: every send it accepted is mined within a block time.
  const emitted = async () => (await node.anvil.rpc<RpcLog[]>('eth_getLogs', [{ address, fromBlock: `0x${fromBlock.toString(16)}`, toBlock: 'latest' }])).map(logKey)
  let want = await emitted()
  try {
    await waitFor(() => want.every((k) => delivered.includes(k)), 'the watcher to deliver every emitted event', 10_000)
    await sleep(1_500)
    want = await emitted()
    await waitFor(() => want.every((k) => delivered.includes(k)), 'the watcher to deliver every emitted event', 5_000)
  } catch {
    // Reported by the events invariant with what is missing.
  }
  await watcher.stop()
  loop.disable()
  capture.stats(pool)
  detach()
  pool.off('endpoint:state', onState)
  await pool.destroy()

  let left: string[] = []
  try {
    await waitFor(() => leftOver(before, handles(node)).length === 0, 'the pool to release every handle', 5_000)
  } catch {
    left = leftOver(before, handles(node))
  }
  process.off('unhandledRejection', onUnhandled)

  const records = workload.records
  if (recovery) recovery.servedAt = records.filter((r) => r.ok && r.end >= recovery!.at).reduce<number | undefined>((m, r) => (m === undefined || r.end < m ? r.end : m), undefined)

  const observation: Observation = {
    attemptTimeout: ATTEMPT_TIMEOUT,
    records,
    statuses,
    log: picks.log,
    outages,
    wrongChain: standing.filter((p) => p.fault === 'wrongChain').map((p) => ({ endpoint: idOf(p.target), entries: node.entries[p.target === 'http0' ? 0 : 1] })),
    // Detection is owed only with the two other endpoints live and honest: with two live endpoints the
    // reference head is the lower head (nobody can be outvoted), and after all-down the frozen head
    // is re-frozen with too little of the cell left to fall two blocks behind.
    lagging: standing
      .filter((p) => p.fault === 'lag')
      .map((p) => ({ endpoint: idOf(p.target), mustDetect: cell.faults.length === 1 })),
    delivered,
    emitted: want,
    removedNotices,
    recovery,
    unhandledRejections: unhandled,
    leftHandles: left,
    leaks: capture.leaks(),
    capturedChars: capture.chars(),
  }
  const ok = records.filter((r) => r.ok).length
  return {
    cell: cell.name,
    requests: records.length,
    ok,
    failed: records.length - ok,
    maxOverrun: maxOverrun(records),
    delivered: new Set(delivered).size,
    emitted: want.length,
    recoveryMs: recovery?.servedAt === undefined ? undefined : recovery.servedAt - recovery.at,
    verdicts: checkAll(observation),
    captured: capture.counts(),
    durationMs: Date.now() - began,
    loopDelayMax: Math.round(loop.max / 1e6),
  }
}
