// The layers of src/ (docs/architecture.md): a folder may import its own layer and the layers below
// it, never one above. Checked in `npm test` (`npm run check:deps`).
const LAYERS = [
  ['util', 'errors', 'types'], // what everything uses; depends on nothing of ours above
  ['config'], // option types, every DEFAULT_*, validation
  ['platform'], // Node / browser seams: HTTP posters, the WebSocket constructor
  ['transport'], // JSON-RPC over HTTP and WebSocket; knows no pool
  ['policy', 'balancer', 'observability'], // breakers, back-off, limits, timeouts; pure selection; tracing and logging hooks
  ['endpoint'], // the one owner of an endpoint's state
  ['health', 'subscriptions'], // heartbeats and reference head; subscriptions over a narrow host
  ['pool'], // the façade and the request path
  ['contract', 'tx', 'events', 'filters'], // features built on the pool
  ['adapters', 'metrics'], // ethers, EIP-1193, Prometheus
  ['index.ts'], // the public surface
  ['cli', 'viem'], // the command line and resilient-rpc/viem, on the public surface
]

const folder = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`)
const above = (i) => LAYERS.slice(i + 1).flat().map(folder)

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import circles, type-only imports included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...LAYERS.flatMap((names, i) =>
      names.map((name) => ({
        name: `layer-${name.replace('.ts', '')}`,
        severity: 'error',
        comment: `src/${name} (layer ${i}) may only import its own layer and those below it.`,
        from: { path: folder(name) },
        to: { path: above(i).length > 0 ? above(i) : '^$' },
      })),
    ),
    {
      name: 'balancer-no-io',
      severity: 'error',
      comment: 'Selection is pure: no I/O, no timers, no endpoint or transport.',
      from: { path: '^src/balancer/' },
      to: { path: ['^src/(platform|transport|endpoint|health|pool)/', '^(node:)?(http|https|net|dns|fs|timers)$', '^ws$'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'transport-no-pool',
      severity: 'error',
      comment: 'The transport knows no pool, endpoint or health.',
      from: { path: '^src/(transport|platform)/' },
      to: { path: '^src/(pool|endpoint|health|balancer|subscriptions)/' },
    },
    {
      name: 'no-optional-peers',
      severity: 'error',
      comment: 'The optional peers are never imported, not even their types: the shipped .d.ts must compile without them (structural types instead).',
      from: { path: '^src/' },
      to: { path: 'node_modules/(@opentelemetry/api|prom-client)/' },
    },
    {
      name: 'viem-only-in-its-entry',
      severity: 'error',
      comment: 'viem is an optional peer: only resilient-rpc/viem (src/viem) imports it, so nothing of viem loads for others.',
      from: { path: '^src/(?!viem/)' },
      to: { path: 'node_modules/viem/' },
    },
    {
      name: 'viem-entry-through-the-package',
      severity: 'error',
      comment: "resilient-rpc/viem reaches the core by the package's own name (one copy of the errors and brands at runtime), never by a path into src/.",
      from: { path: '^src/viem/' },
      to: { path: '^src/(?!viem/)', pathNot: '^src/index\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Our files, and the optional peers so that `no-optional-peers` sees an import of them.
    includeOnly: ['^src/', 'node_modules/(@opentelemetry/api|prom-client|viem)/'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
    moduleSystems: ['es6'],
  },
}
