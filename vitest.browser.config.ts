import { defineConfig } from 'vitest/config'

// `npm run test:browser`: the dApp example driven in headless Chromium (test/browser/). Kept apart from
// `vitest run` (its files do not match vitest.config.ts's `*.test.ts`): it needs `npm run build` first
// and a Chromium binary (CHROMIUM_PATH, default /usr/bin/chromium).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    dangerouslyIgnoreUnhandledErrors: false,
    // Its own JSON report: .ci/run adds these counts to the main run's.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-browser-results.json' }]],
  },
})
