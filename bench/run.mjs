#!/usr/bin/env node
// `npm run bench [-- --flags]`: bundles bench/*.ts (with src/ from source) into node_modules/.cache,
// then runs the bench with --expose-gc in its own process group, so Ctrl-C, an error or a crash
// never leaves a server, proxy or anvil behind. Flags and environment variables: docs/performance.md.
import { mkdir, rm } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { runInGroup } from '../scripts/runInGroup.mjs'
import { NODE_BUNDLE } from '../scripts/nodeBundle.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// Inside the repository's node_modules: the bundles import ethers, viem, p-retry… by bare name,
// which resolves by walking up from the bundle's own path.
// Named after the checkout: git worktrees that share one node_modules must not overwrite each other's bundles.
const OUT = join(ROOT, 'node_modules', '.cache', `resilient-rpc-bench-${basename(ROOT)}`)

await rm(OUT, { recursive: true, force: true })
await mkdir(OUT, { recursive: true })
await build({
  entryPoints: Object.fromEntries(['main', 'server', 'worker', 'memory', 'profile', 'cpu'].map((name) => [name, join(ROOT, 'bench', `${name}.ts`)])),
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  ...NODE_BUNDLE,
  // Maps profiled bundle code back to src/ (bench/profileReport.ts); not loaded at run time.
  sourcemap: 'external',
  // Sources as absolute URLs through OUT as written, not as the runtime sees it: when node_modules is
  // a symlink (worktrees), the bundle's real path would map them into the other checkout.
  sourceRoot: `${pathToFileURL(OUT).href}/`,
  logLevel: 'warning',
})

runInGroup(join(OUT, 'main.mjs'), { nodeArgs: ['--expose-gc'], args: process.argv.slice(2), env: { ...process.env, BENCH_REPO_ROOT: ROOT } })
