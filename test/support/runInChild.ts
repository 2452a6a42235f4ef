import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { NODE_BUNDLE } from '../../scripts/nodeBundle.mjs'

export type ChildResult = {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** False when the child was still running after `timeout` ms and had to be killed. */
  exitedOnItsOwn: boolean
}

export type RunInChildOptions = { timeout?: number; env?: Record<string, string>; args?: string[] }

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
// Inside the repo's node_modules, not os.tmpdir(): with packages external, the bundle's bare
// imports must resolve against this repo's node_modules by walking up from the bundle's path.
const BUNDLE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'resilient-rpc-test')
// After 'exit', stdio 'close' can be held off forever by a grandchild that inherited the pipes.
const STDIO_GRACE_MS = 500

/**
 * Bundles a TS entry with esbuild and runs it under the current node. Used to check that code
 * lets the process exit on its own (no leaked timers, sockets or child processes).
 */
export async function runInChild(entry: string, opts: RunInChildOptions = {}): Promise<ChildResult> {
  const timeout = opts.timeout ?? 15_000
  const entryPath = resolve(REPO_ROOT, entry)
  await mkdir(BUNDLE_DIR, { recursive: true })
  const outfile = join(BUNDLE_DIR, `${basename(entryPath).replace(/\.[cm]?[jt]sx?$/, '')}-${randomUUID()}.mjs`)
  try {
    await build({
      entryPoints: [entryPath],
      outfile,
      ...NODE_BUNDLE,
      sourcemap: 'inline',
      logLevel: 'silent',
    })
    return await run(outfile, timeout, opts)
  } finally {
    await rm(outfile, { force: true })
  }
}

function run(file: string, timeout: number, opts: RunInChildOptions): Promise<ChildResult> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(process.execPath, ['--enable-source-maps', file, ...(opts.args ?? [])], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a timeout kill also takes down anything the child spawned (e.g. anvil).
      detached: process.platform !== 'win32',
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (c: string) => (stdout += c))
    child.stderr.on('data', (c: string) => (stderr += c))

    let killed = false
    let settled = false
    let graceTimer: NodeJS.Timeout | undefined

    const killGroup = () => {
      if (child.pid === undefined) return
      try {
        if (process.platform === 'win32') child.kill('SIGKILL')
        else process.kill(-child.pid, 'SIGKILL')
      } catch {
        // ESRCH: the group is already gone.
      }
    }
    const timer = setTimeout(() => {
      killed = true
      killGroup()
    }, timeout)

    const finish = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(graceTimer)
      child.stdout.destroy()
      child.stderr.destroy()
      resolveRun({ code: child.exitCode, signal: child.signalCode, stdout, stderr, exitedOnItsOwn: !killed })
    }

    child.on('error', (e) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      rejectRun(e)
    })
    child.on('exit', () => {
      // Reap stragglers the child left behind; they are not part of "exited on its own".
      killGroup()
      graceTimer = setTimeout(finish, STDIO_GRACE_MS)
    })
    child.on('close', finish)
  })
}
