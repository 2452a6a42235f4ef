import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The demo end to end, as `npm run demo` runs it, with stdout a pipe (not a terminal).

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

type Run = { code: number | null; stdout: string; stderr: string; timedOut: boolean }

function runDemo(args: string[], opts: { timeout: number; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void }): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(ROOT, 'demo', 'run.mjs'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c
      opts.onStdout?.(stdout, child)
    })
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, opts.timeout)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolveRun({ code, stdout, stderr, timedOut })
    })
  })
}

/** The ports the demo announced: anvil's, then the three proxies'. */
function announcedPorts(stdout: string): number[] {
  const m = /anvil listening on port (\d+); proxies on ports (\d+), (\d+), (\d+)/.exec(stdout)
  if (!m) throw new Error(`no port line in:\n${stdout.slice(0, 500)}`)
  return m.slice(1).map(Number)
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), res(false)))
    socket.once('error', () => res(true))
  })
}

function result(stdout: string): Record<string, number> {
  const line = stdout.split('\n').find((l) => l.startsWith('DEMO RESULT '))
  if (!line) throw new Error(`no DEMO RESULT line in:\n${stdout.slice(-1500)}`)
  return Object.fromEntries(line.slice('DEMO RESULT '.length).split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]))
}

describe('npm run demo', () => {
  it('runs the short storm to the end: every request settled, exit 0, plain lines, nothing left running', async () => {
    const run = await runDemo(['--fast'], { timeout: 90_000 })
    expect(run.timedOut, run.stderr).toBe(false)
    expect(run.code, `${run.stdout.slice(-2000)}\n${run.stderr}`).toBe(0)

    const r = result(run.stdout)
    expect(r.started).toBeGreaterThan(50)
    expect(r.settled).toBe(r.started)
    expect(r.lost).toBe(0)
    expect(r.ok! + r.failed! + r.timedout! + r.aborted!).toBe(r.started)
    expect(r.aborted).toBe(0)
    // Most of the workload gets through the storm: a demo where everything fails proves nothing.
    expect(r.ok).toBeGreaterThan(r.started! * 0.8)
    expect(run.stdout).toMatch(/transfer [1-9]\d*\/\d+ ok/)

    // Every phase was announced, and not a terminal: one line per second, no ANSI codes.
    for (const phase of ['calm', 'hang', 'lag', 'rate limit', 'outage', 'recovery']) expect(run.stdout).toContain(`“${phase}”`)
    expect(run.stdout.match(/^t= *\d+s phase=/gm)?.length).toBeGreaterThanOrEqual(10)
    expect(run.stdout).not.toContain('\x1b[')
    // The stand-in API keys (in a URL path, a query, userinfo and a header: keyedEndpoints) are never shown.
    expect(run.stdout + run.stderr).not.toContain('demo-secret-key')
    expect(run.stderr).toBe('')

    for (const port of announcedPorts(run.stdout)) expect(await refusesConnections(port)).toBe(true)
  }, 100_000)

  it('stops cleanly on SIGINT mid-storm: exit 130, every started request settled, anvil and proxies are gone', async () => {
    let sent = false
    const run = await runDemo(['--duration', '30'], {
      timeout: 60_000,
      onStdout(text, child) {
        // A few seconds into the storm, with requests in flight.
        if (!sent && /^t= *2s /m.test(text)) {
          sent = true
          child.kill('SIGINT')
        }
      },
    })
    expect(sent).toBe(true)
    expect(run.timedOut, run.stderr).toBe(false)
    expect(run.code).toBe(130)
    const r = result(run.stdout)
    expect(r.lost).toBe(0)
    expect(r.settled).toBe(r.started)
    expect(run.stdout).toContain('interrupted by SIGINT')
    expect(run.stdout).toContain('stopped: pool, three proxies, anvil')
    for (const port of announcedPorts(run.stdout)) expect(await refusesConnections(port)).toBe(true)
  }, 70_000)
})
