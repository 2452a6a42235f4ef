import { defineConfig } from 'tsup'

const shared = {
  entry: { index: 'src/index.ts' },
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  // `neutral` resolves only the `exports` "import"/"default" conditions; these keep Node's and browsers' picks.
  esbuildOptions(options: { mainFields?: string[] }) {
    options.mainFields = ['module', 'main']
  },
} as const

export default defineConfig([
  { ...shared, format: ['esm'], dts: true },
  // p-retry and p-timeout are ESM-only. The CJS build bundles them (with p-retry's is-network-error)
  // so `require('resilient-rpc')` works on every Node 20, not only where require(esm) exists (20.19+).
  { ...shared, format: ['cjs'], dts: true, noExternal: ['p-retry', 'p-timeout', 'is-network-error'] },
  // The `resilient-rpc` bin (package.json "bin"): Node-only ESM; the entry's shebang makes it executable.
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], platform: 'node', target: 'node20', sourcemap: true },
])
