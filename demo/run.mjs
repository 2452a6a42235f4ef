#!/usr/bin/env node
// `npm run demo [-- --flags]`: bundles demo/*.ts (with src/ from source) into node_modules/.cache,
// then runs it in its own process group, so Ctrl-C, an error or a crash never leaves a proxy or
// anvil behind (scripts/runInGroup.mjs). The demo stops everything itself; the group kill is the fallback.
import { mkdir, rm } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { runInGroup } from '../scripts/runInGroup.mjs'
import { NODE_BUNDLE } from '../scripts/nodeBundle.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// Inside the repository's node_modules, so the bundle's bare imports (ethers, opossum…) resolve by
// walking up from its path; one directory per run, so two demos at once do not share a bundle.
const OUT = join(ROOT, 'node_modules', '.cache', 'resilient-rpc-demo', String(process.pid))

await mkdir(OUT, { recursive: true })
try {
  await build({
    entryPoints: { main: join(ROOT, 'demo', 'main.ts') },
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    ...NODE_BUNDLE,
    sourcemap: 'inline',
    logLevel: 'warning',
  })
} catch {
  await rm(OUT, { recursive: true, force: true })
  process.exit(1)
}

runInGroup(join(OUT, 'main.mjs'), { nodeArgs: ['--enable-source-maps'], args: process.argv.slice(2), onExit: () => rmSync(OUT, { recursive: true, force: true }) })
