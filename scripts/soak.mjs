// npm run soak [-- --minutes N] [--seed S]: rolling faults against one pool for N minutes (default 10),
// a report each minute (heap after GC, handles, requests, errors by code); exits non-zero on any lost
// request or event, heap growth past the bound, a secret in the output or an unhandled rejection.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, seed: { type: 'string' } } })
const minutes = Number(values.minutes)
if (!(minutes > 0)) {
  console.error(`soak: --minutes expects a number > 0, got ${values.minutes}`)
  process.exit(2)
}
const viteNode = join(dirname(createRequire(import.meta.url).resolve('vite-node/package.json')), 'vite-node.mjs')
const env = { ...process.env, SOAK_MINUTES: String(minutes), ...(values.seed === undefined ? {} : { SOAK_SEED: values.seed }) }
const child = spawnSync(process.execPath, ['--expose-gc', viteNode, 'test/chaos/soakMain.ts'], { stdio: 'inherit', env })
process.exit(child.status ?? 1)
