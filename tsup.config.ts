import { resolve } from 'node:path'
import { defineConfig } from 'tsup'

const NODE_PLATFORM = resolve('src/platform/node.ts')
const BROWSER_PLATFORM = resolve('src/platform/browser.ts')

const shared = {
  entry: { index: 'src/index.ts' },
  // Maps carry the sources (sourcesContent): stack traces (`node --enable-source-maps`), debuggers and
  // bundlers show our TypeScript without src/ in the package. scripts/check-pack.mjs holds them to it.
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  // Keep `node:` on built-ins: no bundler mistakes them for npm packages (or polyfills them).
  removeNodeProtocol: false,
  // `neutral` resolves only the `exports` "import"/"default" conditions; these keep Node's and browsers' picks.
  esbuildOptions(options: { mainFields?: string[] }) {
    options.mainFields = ['module', 'main']
  },
} as const

export default defineConfig([
  // Node: the node:http transport and `ws` (src/platform/node.ts); built-ins stay imports.
  { ...shared, format: ['esm'], dts: true, external: [/^node:/] },
  // p-retry and p-timeout are ESM-only. The CJS build bundles them (with p-retry's is-network-error)
  // so `require('resilient-rpc')` works on every Node 20, not only where require(esm) exists (20.19+).
  { ...shared, format: ['cjs'], dts: true, external: [/^node:/], noExternal: ['p-retry', 'p-timeout', 'is-network-error'] },
  // `resilient-rpc/viem` (ESM and CJS, for Node and browsers alike): viem is an optional peer, and the
  // core is imported by the package's own name, never bundled, so both entries share one copy of it.
  { ...shared, entry: { viem: 'src/viem/index.ts' }, format: ['esm', 'cjs'], dts: true, sourcemap: true, external: ['resilient-rpc', 'viem', /^node:/] },
  // The `resilient-rpc` bin (package.json "bin"): Node-only ESM; the entry's shebang makes it executable.
  // No source map: it reports failures as messages, nobody steps through it, and the map would weigh
  // more than the bin.
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], platform: 'node', target: 'node20', sourcemap: false },
  // Browsers (the `browser` export condition): the same code with src/platform/browser.ts in place of
  // src/platform/node.ts, so neither `node:*` nor `ws` is reachable. Types are index.d.ts's.
  {
    ...shared,
    entry: { browser: 'src/index.ts' },
    format: ['esm'],
    platform: 'browser',
    dts: false,
    esbuildOptions(options: { mainFields?: string[] }) {
      options.mainFields = ['browser', 'module', 'main']
    },
    esbuildPlugins: [
      {
        name: 'browser-platform',
        setup(build) {
          build.onResolve({ filter: /platform\/node\.js$/ }, async (args) => {
            const resolved = await build.resolve(args.path.replace(/\.js$/, '.ts'), { resolveDir: args.resolveDir, kind: args.kind })
            return resolved.path === NODE_PLATFORM ? { path: BROWSER_PLATFORM } : undefined
          })
        },
      },
    ],
  },
])
