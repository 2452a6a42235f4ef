/**
 * Profile child: CPU-profiles one client's measured window only (not start-up or warm-up) through the
 * inspector, the same sampler `node --cpu-prof` uses, and writes a .cpuprofile that DevTools opens.
 * Prints one JSON line.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { createClient, type ClientKind } from './clients.js'
import { runLoad } from './load.js'
import { runChildMain } from './childMain.js'

export type ProfileRun = { kind: ClientKind; count: number; ok: number; elapsedMs: number; cpuUs: number; file: string }

async function main(): Promise<object> {
  const kind = process.env.BENCH_PROF_KIND as ClientKind
  const urls = JSON.parse(process.env.BENCH_PROF_URLS ?? '[]') as string[]
  const durationMs = Number(process.env.BENCH_PROF_MS ?? 5_000)
  const concurrency = Number(process.env.BENCH_PROF_CONCURRENCY ?? 64)
  const file = process.env.BENCH_PROF_FILE!

  const client = await createClient(kind, { urls })
  await runLoad(client.call, { concurrency, durationMs: 1_000 })

  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  const cpu0 = process.cpuUsage()
  const { count, ok, elapsedMs } = await runLoad(client.call, { concurrency, durationMs })
  const cpu = process.cpuUsage(cpu0)
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  writeFileSync(file, JSON.stringify(profile))
  await client.destroy()
  const run: ProfileRun = { kind, count, ok, elapsedMs, cpuUs: cpu.user + cpu.system, file }
  return run
}

runChildMain(main)
