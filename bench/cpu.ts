/**
 * CPU child (`--only=cpu`): one client, warmed up, then a fixed number of requests at a fixed
 * concurrency. Prints one JSON line with the process's CPU time over the measured requests. Main runs
 * it under `perf stat` twice (with and without the measured requests) when perf can count, so the
 * difference is the instructions those requests cost: a figure other load on the machine barely moves.
 */
import { createClient, type ClientKind } from './clients.js'
import { runLoad } from './load.js'
import { runChildMain } from './childMain.js'

export type CpuRun = { kind: ClientKind; requests: number; ok: number; cpuUs: number; elapsedMs: number }

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

async function main(): Promise<object> {
  const kind = process.env.BENCH_CPU_KIND as ClientKind
  const urls = JSON.parse(process.env.BENCH_CPU_URLS ?? '[]') as string[]
  const method = process.env.BENCH_CPU_METHOD === 'eth_blockNumber' ? 'blockNumber' : 'call'
  const warm = Number(process.env.BENCH_CPU_WARM ?? 3_000)
  const requests = Number(process.env.BENCH_CPU_REQUESTS ?? 10_000)
  const concurrency = Number(process.env.BENCH_CPU_CONCURRENCY ?? 64)

  const client = await createClient(kind, { urls })
  const op = client[method]
  await runLoad(op, { concurrency, durationMs: 120_000, maxRequests: warm })
  gc()
  const cpu0 = process.cpuUsage()
  const { count, ok, elapsedMs } = requests > 0 ? await runLoad(op, { concurrency, durationMs: 120_000, maxRequests: requests }) : { count: 0, ok: 0, elapsedMs: 0 }
  const cpu = process.cpuUsage(cpu0)
  await client.destroy()
  const run: CpuRun = { kind, requests: count, ok, cpuUs: cpu.user + cpu.system, elapsedMs }
  return run
}

runChildMain(main)
