import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Anvil = {
  /** http://127.0.0.1:PORT */
  url: string
  port: number
  chainId: number
  /** Direct JSON-RPC to anvil; throws with the JSON-RPC error message on error responses. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>
  mine(blocks?: number): Promise<void>
  /**
   * eth_sendTransaction, then its receipt: with automine the block exists when the send answers, but
   * on a loaded machine the receipt (and its logs) can take a moment longer to be queryable.
   */
  transact<R = { contractAddress: string | null; blockNumber: string; blockHash: string; status: string }>(tx: Record<string, unknown>): Promise<R & { transactionHash: string }>
  snapshot(): Promise<string>
  revert(id: string): Promise<void>
  /** SIGTERM, then SIGKILL after 2s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>
}

export type StartAnvilOptions = { chainId?: number; blockTime?: number; args?: string[] }

const STARTUP_TIMEOUT_MS = 20_000
const KILL_GRACE_MS = 2_000
const TAIL_CHARS = 2_000

function anvilBinary(): string {
  const require = createRequire(import.meta.url)
  // Foundry names its platform packages with Go-style arch names, not Node's.
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)
    const bin = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
    if (existsSync(bin)) return bin
  } catch {
    // Platform package missing: fall back to the npm wrapper, which costs an extra node process.
  }
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin', 'anvil')
    if (existsSync(bin)) return bin
    if (dirname(dir) === dir) return 'anvil'
  }
}

/** Keeps only the end of a stream, so a chatty process cannot grow memory without bound. */
function tailBuffer() {
  let text = ''
  return {
    push(chunk: string) {
      text = (text + chunk).slice(-TAIL_CHARS * 4)
    },
    tail: () => text.slice(-TAIL_CHARS),
    text: () => text,
  }
}

async function jsonRpc<T>(url: string, id: number, method: string, params: unknown[], timeoutMs?: number): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    signal: timeoutMs === undefined ? null : AbortSignal.timeout(timeoutMs),
  })
  const text = await res.text()
  let body: { result?: unknown; error?: { code?: number; message?: string } }
  try {
    body = JSON.parse(text) as typeof body
  } catch {
    throw new Error(`anvil ${method}: HTTP ${res.status}, non-JSON body: ${text.slice(0, 200)}`)
  }
  if (body.error) throw new Error(body.error.message ?? `anvil ${method}: JSON-RPC error ${JSON.stringify(body.error)}`)
  if (!res.ok) throw new Error(`anvil ${method}: HTTP ${res.status}: ${text.slice(0, 200)}`)
  return body.result as T
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolveExit) => child.once('exit', () => resolveExit()))
}

export async function startAnvil(opts: StartAnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? 31337
  // --port 0 works: anvil binds an ephemeral port and reports it as "Listening on HOST:PORT" on
  // stdout. That line is suppressed by --silent/--quiet, so we keep stdout and parse it, which
  // avoids the pick-a-free-port-then-race dance entirely.
  const args = ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId)]
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime))
  args.push(...(opts.args ?? []))

  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  // Without a listener, a spawn failure (ENOENT, EACCES) would be an uncaught exception.
  let spawnFailure: Error | undefined
  child.on('error', (e) => {
    spawnFailure = e
  })
  const stdout = tailBuffer()
  const stderr = tailBuffer()
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8')
  // Both pipes must be drained for the whole life of the process: anvil logs every RPC call,
  // and a full pipe would block it mid-test.
  child.stdout?.on('data', (chunk: string) => stdout.push(chunk))
  child.stderr?.on('data', (chunk: string) => stderr.push(chunk))

  // A worker that exits without stop() (failed hook, process.exit) must not leave anvil running.
  const killOnExit = () => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const exited = waitForExit(child)
      // A process that never spawned has no pid and will never emit 'exit'.
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS)
        await exited
        clearTimeout(timer)
      }
      process.removeListener('exit', killOnExit)
    })()
    return stopping
  }

  const fail = async (why: string): Promise<never> => {
    await stop()
    const err = stderr.tail().trim()
    const out = stdout.tail().trim()
    throw new Error(
      `startAnvil: ${why}\n  binary: ${anvilBinary()} ${args.join(' ')}` +
        `\n  stderr tail: ${err || '(empty)'}` +
        (out ? `\n  stdout tail: ${out.slice(-500)}` : ''),
    )
  }

  const deadline = Date.now() + STARTUP_TIMEOUT_MS

  // Phase 1: learn the port.
  let port: number | undefined
  while (port === undefined) {
    if (spawnFailure) return fail(`could not spawn anvil: ${spawnFailure.message}`)
    if (child.exitCode !== null || child.signalCode !== null) {
      return fail(`anvil exited before listening (code ${child.exitCode}, signal ${child.signalCode})`)
    }
    if (Date.now() > deadline) return fail(`no "Listening on" line within ${STARTUP_TIMEOUT_MS}ms`)
    const match = /Listening on [^\s:]+:(\d+)/.exec(stdout.text())
    if (match?.[1]) port = Number(match[1])
    else await new Promise((r) => setTimeout(r, 20))
  }

  const url = `http://127.0.0.1:${port}`
  let nextId = 1

  // Phase 2: the line is printed right after bind, but only an answered request proves readiness.
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return fail(`anvil exited during startup (code ${child.exitCode}, signal ${child.signalCode})`)
    }
    try {
      const reported = Number(await jsonRpc<string>(url, nextId++, 'eth_chainId', [], 1_000))
      if (reported !== chainId) return fail(`anvil reports chainId ${reported}, expected ${chainId}`)
      break
    } catch (e) {
      if (Date.now() > deadline) return fail(`eth_chainId never answered: ${(e as Error).message}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const rpc = <T = unknown>(method: string, params: unknown[] = []): Promise<T> =>
    jsonRpc<T>(url, nextId++, method, params)

  return {
    url,
    port,
    chainId,
    rpc,
    async mine(blocks = 1) {
      await rpc('anvil_mine', [`0x${blocks.toString(16)}`])
    },
    async transact(tx) {
      const hash = await rpc<string>('eth_sendTransaction', [tx])
      for (let waited = 0; ; waited += 20) {
        const receipt = await rpc<Record<string, unknown> | null>('eth_getTransactionReceipt', [hash])
        if (receipt !== null) return receipt as never
        if (waited > 10_000) throw new Error(`no receipt for ${hash} after 10 s`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    snapshot: () => rpc<string>('evm_snapshot'),
    async revert(id) {
      const ok = await rpc<boolean>('evm_revert', [id])
      if (!ok) throw new Error(`anvil: evm_revert(${id}) returned false (unknown or already used snapshot)`)
    },
    stop,
  }
}
