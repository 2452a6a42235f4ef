/**
 * CPU child (`--only=cpu`): one client, warmed up, then a fixed number of requests at a fixed
 * concurrency. Prints one JSON line with the process's CPU time over the measured requests. Main runs
 * it under `perf stat` twice (with and without the measured requests) when perf can count, so the
 * difference is the instructions those requests cost: a figure other load on the machine barely moves.
 * Under callgrind (`BENCH_CPU_MARKS`), it marks the measured requests instead: it says `start` and
 * `end` on stdout and waits for a line on stdin after each, while main zeroes and dumps the counters.
 */
import { createInterface } from 'node:readline'
import { createClient, type ClientKind } from './clients.js'
import { runLoad } from './load.js'
import { MARK, runChildMain } from './childMain.js'

export type CpuRun = {
  kind: ClientKind
  requests: number
  ok: number
  cpuUs: number
  /** The kernel's share of `cpuUs` (system time). */
  systemUs: number
  elapsedMs: number
  /** Hedges and retries the pool sent during the measured requests (other clients: 0). */
  extra: number
}

async function main(): Promise<object> {
  const kind = process.env.BENCH_CPU_KIND as ClientKind
  const urls = JSON.parse(process.env.BENCH_CPU_URLS ?? '[]') as string[]
  const method = process.env.BENCH_CPU_METHOD === 'eth_blockNumber' ? 'blockNumber' : 'call'
  const warm = Number(process.env.BENCH_CPU_WARM ?? 3_000)
  const requests = Number(process.env.BENCH_CPU_REQUESTS ?? 10_000)
  const concurrency = Number(process.env.BENCH_CPU_CONCURRENCY ?? 64)
  const settleMs = Number(process.env.BENCH_CPU_SETTLE_MS ?? 0)
  const lines = process.env.BENCH_CPU_MARKS ? createInterface({ input: process.stdin })[Symbol.asyncIterator]() : undefined
  const mark = async (what: 'start' | 'end') => {
    if (!lines) return
    process.stdout.write(`${MARK}${what}\n`)
    await lines.next()
  }

  const client = await createClient(kind, { urls, slowdown: Number(process.env.BENCH_CPU_SLOWDOWN ?? 1) })
  const op = client[method]
  // No forced GC between warm-up and measurement: V8 then drops optimised code and feedback, and
  // re-optimised ~70 functions of raw node:http's path alone within the next 2,000 requests (9 without
  // it; --trace-opt), which the measured requests would pay for.
  await runLoad(op, { concurrency, durationMs: 600_000, maxRequests: warm })
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs))
  await mark('start')
  const extra0 = client.extra?.() ?? 0
  const cpu0 = process.cpuUsage()
  const { count, ok, elapsedMs } = requests > 0 ? await runLoad(op, { concurrency, durationMs: 600_000, maxRequests: requests }) : { count: 0, ok: 0, elapsedMs: 0 }
  const cpu = process.cpuUsage(cpu0)
  const extra = (client.extra?.() ?? 0) - extra0
  await mark('end')
  await client.destroy()
  const run: CpuRun = { kind, requests: count, ok, cpuUs: cpu.user + cpu.system, systemUs: cpu.system, elapsedMs, extra }
  return run
}

runChildMain(main)
