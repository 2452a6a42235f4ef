#!/usr/bin/env node
// The `resilient-rpc` bin. All logic lives in run.ts; this file only wires it to the process.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { runCli } from './run.js'

// The package ships docs/ beside dist/, where this file runs from (dist/cli.js): the help names the
// installed copy of docs/cli.md, or the package when run from elsewhere (a test bundle).
const docs = fileURLToPath(new URL('../docs/cli.md', import.meta.url))

const interrupt = new AbortController()
const onSignal = () => interrupt.abort()
process.once('SIGINT', onSignal)
process.once('SIGTERM', onSignal)

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readFile: (path) => readFile(path, 'utf8'),
  signal: interrupt.signal,
  docs: existsSync(docs) ? docs : undefined,
})
process.off('SIGINT', onSignal)
process.off('SIGTERM', onSignal)
// No process.exit(): stdout is flushed first, and the pool was destroyed, so nothing keeps us alive.
process.exitCode = code
