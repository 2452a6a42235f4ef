// Runs a bundled script (the bench, the demo) in its own process group and mirrors its exit: Ctrl-C
// and SIGTERM are passed on, and whatever the child leaves behind goes with one group kill — the
// fallback should the child fail to stop its servers, proxies or anvil itself.
import { spawn } from 'node:child_process'

const GRACE_MS = 10_000

/**
 * @param {string} script the .mjs to run
 * @param {{ nodeArgs?: string[], args?: string[], env?: NodeJS.ProcessEnv, onExit?: () => void }} options
 */
export function runInGroup(script, { nodeArgs = [], args = [], env = process.env, onExit } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: process.cwd(),
    env,
    stdio: 'inherit',
    // Its own process group: on the way out, one kill reaches everything it started.
    detached: process.platform !== 'win32',
  })

  const killGroup = (signal) => {
    if (child.pid === undefined) return
    try {
      if (process.platform === 'win32') child.kill(signal)
      else process.kill(-child.pid, signal)
    } catch {
      // ESRCH: already gone.
    }
  }

  let graceTimer
  const forward = (signal) => {
    // The child is in its own group, so a terminal's Ctrl-C reaches only us: pass it on.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    graceTimer ??= setTimeout(() => killGroup('SIGKILL'), GRACE_MS)
  }
  process.on('SIGINT', () => forward('SIGINT'))
  process.on('SIGTERM', () => forward('SIGTERM'))
  process.on('exit', () => {
    killGroup('SIGKILL')
    onExit?.()
  })

  child.on('exit', (code, signal) => {
    clearTimeout(graceTimer)
    killGroup('SIGKILL')
    process.exit(code ?? (signal === 'SIGINT' ? 130 : 1))
  })
}
