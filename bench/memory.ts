/**
 * Memory child (run with --expose-gc, one process per client so nothing else shares its heap):
 * heap after GC before the client exists, after warm-up, after N requests, and after destroy().
 * Prints one JSON line.
 */
import { createClient, type BenchClient, type ClientKind } from './clients.js'
import { runLoad } from './load.js'
import { runChildMain } from './childMain.js'

export type MemoryResult = {
  kind: ClientKind
  requests: number
  ok: number
  seconds: number
  /** heapUsed after GC (bytes). */
  base: number
  warm: number
  after: number
  destroyed: number
  /** RSS at the end of the run (bytes). */
  rss: number
}

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('memory child needs node --expose-gc')

async function settledHeap(): Promise<number> {
  // Several rounds: finalizers and weak callbacks run between them and free more on the next.
  for (let i = 0; i < 4; i++) {
    gc!()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return process.memoryUsage().heapUsed
}

async function main(): Promise<object> {
  const kind = process.env.BENCH_MEM_KIND as ClientKind
  const urls = JSON.parse(process.env.BENCH_MEM_URLS ?? '[]') as string[]
  const requests = Number(process.env.BENCH_MEM_REQUESTS ?? 200_000)
  const concurrency = 64

  const base = await settledHeap()
  let client: BenchClient | undefined = await createClient(kind, { urls })
  const ops = [client.call, client.blockNumber]
  let i = 0
  const op = () => ops[i++ & 1]!()
  // Warm-up: sockets opened, code optimised, lazy state created. Growth is measured from here.
  await runLoad(op, { concurrency, durationMs: 600_000, maxRequests: 2_000 })
  const warm = await settledHeap()
  const t0 = performance.now()
  const { ok, count } = await runLoad(op, { concurrency, durationMs: 600_000, maxRequests: requests })
  const seconds = (performance.now() - t0) / 1000
  const after = await settledHeap()
  await client.destroy()
  client = undefined
  const destroyed = await settledHeap()
  const result: MemoryResult = { kind, requests: count, ok, seconds, base, warm, after, destroyed, rss: process.memoryUsage().rss }
  return result
}

runChildMain(main)
