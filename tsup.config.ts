import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // p-retry and p-timeout are ESM-only: bundle them (and p-retry's is-network-error) so that
  // `require('resilient-rpc')` works on every Node 20, not only where require(esm) exists (20.19+).
  noExternal: ['p-retry', 'p-timeout', 'is-network-error'],
})
