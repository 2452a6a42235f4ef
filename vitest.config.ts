import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // `resilient-rpc/viem` imports the core by the package's name: in tests that is src/, the copy the
  // tests themselves import (one set of error classes), never a build.
  resolve: { alias: [{ find: /^resilient-rpc$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start their own anvil; keep parallelism modest on 2-core machines.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // One seed for every randomized test, fixed unless FUZZ_SEED says otherwise (`npm run fuzz`).
    globalSetup: ['test/support/globalSeed.ts'],
    setupFiles: ['test/support/setupSeed.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Fail the run on any unhandled rejection or uncaught exception anywhere in the suite.
    dangerouslyIgnoreUnhandledErrors: false,
    // The JSON report lets .ci/run print a one-line "N passed, N failed" summary.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
})
