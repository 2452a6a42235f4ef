// Bundles the package's browser entry (dist/browser.js, what the `browser` export condition serves;
// run `npm run build` first) for the browser platform, and fails if any Node built-in or `ws` leaks
// into it: in browsers the pool must run on global fetch, WebSocket, AbortController and AbortSignal alone.
import { existsSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { build } from 'esbuild'

const ENTRY = './dist/browser.js'
const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const served = pkg.exports?.['.']?.browser?.default
if (served !== ENTRY || pkg.browser !== ENTRY) {
  console.error(`package.json must serve ${ENTRY} to browsers (exports["."].browser.default and "browser"), found ${served} and ${pkg.browser}`)
  process.exit(1)
}
if (!existsSync(ENTRY)) {
  console.error(`${ENTRY} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
const leaked = new Set()
const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'probe') return undefined
      // `ws` in a browser is a stub that throws: the browser entry must use globalThis.WebSocket instead.
      if (args.path === 'ws' || args.path.startsWith('ws/')) {
        leaked.add(`${args.path} (imported by ${args.importer})`)
        return { path: args.path, external: true }
      }
      if (!builtins.has(args.path) && !args.path.startsWith('node:')) return undefined
      // A built-in name is fine when a browser package of that name is installed (opossum's
      // `require('events')` resolves to the `events` package, a dependency for that reason).
      if (!args.path.startsWith('node:')) {
        const probe = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: 'probe' })
        if (probe.errors.length === 0 && probe.path.includes('node_modules')) return undefined
      }
      leaked.add(`${args.path} (imported by ${args.importer})`)
      return { path: args.path, external: true }
    })
  },
}

const result = await build({
  entryPoints: [ENTRY],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  write: false,
  metafile: true,
  logLevel: 'silent',
  plugins: [noNodeBuiltins],
})
if (leaked.size > 0) {
  console.error(`Node built-ins or ws leaked into the browser bundle:\n  ${[...leaked].join('\n  ')}`)
  process.exit(1)
}
const bytes = result.outputFiles[0].contents.length
console.log(`browser bundle ok: ${(bytes / 1024).toFixed(1)} KiB, no Node built-ins, no ws`)

// The core pool must not pull in ethers: only the adapters and contract helpers use it, and a dApp
// importing createPool alone should not pay for it.
const core = await build({
  stdin: { contents: `export { createPool, isResilientRpcError } from '${ENTRY}'`, resolveDir: process.cwd(), loader: 'js' },
  bundle: true,
  platform: 'browser',
  format: 'esm',
  minify: true,
  write: false,
  metafile: true,
  logLevel: 'silent',
  plugins: [noNodeBuiltins],
})
// Inputs that contribute bytes to the output (the metafile also lists modules parsed and then shaken off).
const included = Object.entries(Object.values(core.metafile.outputs)[0].inputs).filter(([, v]) => v.bytesInOutput > 0).map(([path]) => path)
const fromEthers = included.filter((path) => path.includes('node_modules/ethers/') || path.includes('node_modules/@noble/'))
if (fromEthers.length > 0) {
  console.error(`createPool alone pulls in ethers (${fromEthers.length} modules, e.g. ${fromEthers[0]})`)
  process.exit(1)
}
console.log(`createPool alone: ${(core.outputFiles[0].contents.length / 1024).toFixed(1)} KiB minified, without ethers`)
