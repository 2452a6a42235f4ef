#!/usr/bin/env node
// `npm run demo [-- --flags]`: bundles demo/*.ts (with src/ from source) into node_modules/.cache,
// then runs it in its own process group, so Ctrl-C, an error or a crash never leaves a proxy or
// anvil behind. The demo stops everything itself; the group kill here is only the fallback.
import { spawn } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// Inside the repository's node_modules, so the bundle's bare imports (ethers, opossum…) resolve by
// walking up from its path; one directory per run, so two demos at once do not share a bundle.
const OUT = join(ROOT, 'node_modules', '.cache', 'resilient-rpc-demo', String(process.pid))
const GRACE_MS = 10_000

await mkdir(OUT, { recursive: true })
try {
  await build({
    entryPoints: { main: join(ROOT, 'demo', 'main.ts') },
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'inline',
    logLevel: 'warning',
  })
} catch {
  await rm(OUT, { recursive: true, force: true })
  process.exit(1)
}

const child = spawn(process.execPath, ['--enable-source-maps', join(OUT, 'main.mjs'), ...process.argv.slice(2)], {
  cwd: process.cwd(),
  stdio: 'inherit',
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
  rmSync(OUT, { recursive: true, force: true })
})

child.on('exit', (code, signal) => {
  clearTimeout(graceTimer)
  killGroup('SIGKILL')
  process.exit(code ?? (signal === 'SIGINT' ? 130 : 1))
})
