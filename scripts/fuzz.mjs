#!/usr/bin/env node
// `npm run fuzz [-- --runs N] [--files a,b]`: the randomized tests (every test file that uses fast-check,
// and the chaos matrix's sample of pairs) with a new seed each run. `npm test` always runs the fixed
// seed of test/support/seed.ts; this hunts with others. A failing run prints its seed: replay it with
// `FUZZ_SEED=<seed> npx vitest run <file>`, fix what it found, and keep the seed as a test if it is
// worth one.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, files: { type: 'string' } } })
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`fuzz: --runs expects an integer >= 1, got ${values.runs}`)
  process.exit(2)
}

const walk = (dir) => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]))
const files =
  values.files?.split(',') ??
  walk('test').filter((f) => f.endsWith('.test.ts') && (/from 'fast-check'/.test(readFileSync(f, 'utf8')) || f === join('test', 'chaos', 'chaos.test.ts')))

const failed = []
for (let run = 1; run <= runs; run++) {
  const seed = Math.floor(Math.random() * 2 ** 31)
  console.log(`fuzz run ${run}/${runs}: FUZZ_SEED=${seed}, ${files.length} files`)
  const result = spawnSync('npx', ['vitest', 'run', '--reporter=dot', ...files], { stdio: 'inherit', env: { ...process.env, FUZZ_SEED: String(seed) } })
  if (result.status !== 0) failed.push(seed)
}
if (failed.length === 0) {
  console.log(`fuzz: ${runs} run(s), every seed passed`)
} else {
  console.error(`fuzz: ${failed.length} of ${runs} run(s) failed; replay with FUZZ_SEED=${failed.join(', FUZZ_SEED=')}`)
  process.exit(1)
}
