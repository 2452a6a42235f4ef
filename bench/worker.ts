/**
 * A client worker: one process per client library, so no client shares a heap, a JIT profile or
 * fetch's connection pools with another (measured: raw fetch costs ~2× the CPU per request when
 * ethers, viem and the pool live in the same process). Only one worker runs load at a time; main
 * interleaves them. Run with --expose-gc.
 */
import { createClient, type BenchClient, type ClientKind } from './clients.js'
import { serveParent } from './ipc.js'
import { runLoad, runOpenLoad, type LoadResult } from './load.js'

export type WorkerCommand =
  | { cmd: 'create'; kind: ClientKind; urls: readonly string[]; deadlineMs?: number }
  | { cmd: 'warm'; durationMs: number; concurrency: number }
  | { cmd: 'run'; method: 'eth_blockNumber' | 'eth_call'; concurrency: number; durationMs: number; deadlineMs?: number; drainCapMs?: number }
  | { cmd: 'runOpen'; method: 'eth_blockNumber' | 'eth_call'; rate: number; durationMs: number; deadlineMs?: number; drainCapMs?: number }
  | { cmd: 'destroy' }

/** A run's result plus the worker's CPU time (user + system, µs) during it. */
export type WorkerRun = LoadResult & { cpuUs: number }

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
let client: BenchClient | undefined

function current(): BenchClient {
  if (!client) throw new Error('no client: send create first')
  return client
}

serveParent<WorkerCommand>(async (command) => {
  switch (command.cmd) {
    case 'create':
      if (client) throw new Error('client exists: destroy it first')
      client = await createClient(command.kind, { urls: command.urls, deadlineMs: command.deadlineMs })
      return null
    case 'warm': {
      const c = current()
      let i = 0
      await runLoad(() => (i++ & 1 ? c.call() : c.blockNumber()), { concurrency: command.concurrency, durationMs: command.durationMs })
      return null
    }
    case 'run':
    case 'runOpen': {
      const c = current()
      const op = command.method === 'eth_call' ? c.call : c.blockNumber
      // Each turn starts on a clean heap: no run pays for an earlier one's garbage.
      gc()
      const cpu0 = process.cpuUsage()
      const result = command.cmd === 'run' ? await runLoad(op, command) : await runOpenLoad(op, command)
      const cpu = process.cpuUsage(cpu0)
      const run: WorkerRun = { ...result, cpuUs: cpu.user + cpu.system }
      return run
    }
    case 'destroy': {
      const c = client
      client = undefined
      await c?.destroy()
      return null
    }
  }
})
