// Bundles the dApp page the way a user's bundler would: `resilient-rpc` is resolved through the
// package's exports with the `browser` condition (run `npm run build` first, so dist/browser.js exists),
// for the browser platform, with no Node built-in shims. Any esbuild warning fails the build.
//   node examples/dapp/build.mjs [outdir]   (default .tmp/dapp; then serve outdir over http)
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../..')

/**
 * @param {{ outdir?: string }} [options]
 * @returns {Promise<{ outdir: string, bytes: number, inputs: string[], warnings: string[] }>}
 */
export async function buildDapp(options = {}) {
  const outdir = resolve(options.outdir ?? join(ROOT, '.tmp/dapp'))
  if (!existsSync(join(ROOT, 'dist/browser.js'))) throw new Error('dist/browser.js is missing: run `npm run build` first')
  mkdirSync(outdir, { recursive: true })
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(HERE, 'main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    platform: 'browser',
    conditions: ['browser'],
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    // The repository's tsconfig maps `resilient-rpc` to src/ for type checking; a user's project has
    // no such path, so the package is resolved as published (its exports map) instead.
    tsconfigRaw: {},
    logLevel: 'silent',
  })
  const warnings = result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`)
  if (warnings.length > 0) throw new Error(`esbuild warned while bundling the dApp:\n  ${warnings.join('\n  ')}`)
  copyFileSync(join(HERE, 'index.html'), join(outdir, 'index.html'))
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('main.js'))
  if (!output) throw new Error('esbuild produced no main.js')
  return { outdir, bytes: output[1].bytes, inputs: Object.keys(result.metafile.inputs), warnings }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildDapp({ outdir: process.argv[2] })
  console.log(`dApp bundled into ${built.outdir} (main.js ${(built.bytes / 1024).toFixed(1)} KiB)`)
}
