// What `npm install` would unpack, checked as a user would meet it (run `npm run build` first; part of
// `npm test`). Packs the package once, without scripts, into a temporary directory, then fails when:
//   1. a file is off the allow-list (test files, src/ and docs/api/ named as such), or an entry point is missing;
//   2. a source map lacks the sources it maps (sourcesContent), names them by absolute paths, or has no script;
//   3. a path in the shipped types' comments, the CLI's help or a shipped Markdown link names a file the
//      package does not hold (never src/ or test/);
//   4. the tarball outgrows its budget (the sizes are printed; `--write` records them in docs/package-contents.md);
//   5. @arethetypeswrong finds a resolution problem in the tarball;
//   6. the types do not compile, with `skipLibCheck: false` and `@types/node`, in a project that has the
//      package and its dependencies but neither optional peer; or, with the peers, do not accept a real
//      OpenTelemetry tracer and prom-client module and registry.
// The consumer projects are linked to this repository's node_modules (typescript, @types/node, the
// dependencies, the peers): no network. Everything is removed at the end.
//   node scripts/check-pack.mjs           check (npm run check:pack)
//   node scripts/check-pack.mjs --write   check, then rewrite docs/package-contents.md (npm run size)
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DOC = 'docs/package-contents.md'
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))

// What may ship. Anything else fails the check, so a new kind of file is a decision, not an accident.
const ALLOWED = [
  /^(package\.json|README\.md|CHANGELOG\.md|LICENSE)$/,
  /^dist\/((index|viem)\.(js|cjs|d\.ts|d\.cts)|browser\.js|cli\.js)$/,
  /^dist\/((index|viem)\.(js|cjs)|browser\.js)\.map$/,
  /^docs\/(?!api\/)[\w/-]+\.md$/,
]
const FORBIDDEN = [
  [/(^|\/)(test|tests|__tests__|fixtures)\/|\.(test|spec|bench)\.[cm]?[jt]sx?$/, 'test files never ship'],
  [/^src\//, 'src/ never ships (the source maps carry the sources)'],
  [/^docs\/api\//, 'the generated API reference never ships'],
]
// Files the package is useless without: the entry points of package.json, and the docs the help and types name.
const REQUIRED = ['package.json', 'README.md', 'LICENSE', 'docs/cli.md', ...new Set(entryPoints(pkg).map((p) => posix.normalize(p)))]
// Growth past these is a decision too: raise them in the same commit, saying why. Raised from
// 1.25 / 4.5 MiB for the resilient-rpc/viem entry, the provider-answer classification, the push
// adapters and their docs: each line of source ships about four times, in the three source maps'
// sourcesContent (ESM, CJS, browser) and the bundles.
const BUDGET = { packed: 1.4 * 2 ** 20, unpacked: 5 * 2 ** 20 }
// Path-like mentions of repository folders in comments and help text; each must be a file in the package.
const REPO_PATH = /\b(?:docs|src|test|tests|scripts|examples|bench|demo|dist)\/[\w./-]*[\w/]/g

const problems = []
const fail = (message) => problems.push(message)

/** Every file path package.json points to: main, module, types, browser, bin, exports. */
function entryPoints(manifest) {
  const paths = [manifest.main, manifest.module, manifest.types, manifest.browser, ...Object.values(manifest.bin ?? {})]
  const walk = (node) => (typeof node === 'string' ? paths.push(node) : node && Object.values(node).forEach(walk))
  walk(manifest.exports)
  return paths.filter((p) => typeof p === 'string' && !p.includes('*')).map((p) => p.replace(/^\.\//, ''))
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', shell: process.platform === 'win32', ...options })
  if (result.error) throw result.error
  return result
}

/** Runs a command to its end without blocking the others; resolves with its exit code and output. */
function runAsync(command, args, options = {}) {
  return new Promise((done) => {
    const child = spawn(command, args, { shell: process.platform === 'win32', ...options })
    let output = ''
    child.stdout.on('data', (c) => (output += c))
    child.stderr.on('data', (c) => (output += c))
    child.on('error', (error) => done({ code: -1, output: String(error) }))
    child.on('close', (code) => done({ code, output }))
  })
}

const kib = (n) => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`)

// 0. dist/ must be the build of the sources as they are.
function newest(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((max, e) => Math.max(max, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0)
}
const dist = join(ROOT, 'dist')
if (!existsSync(join(dist, 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first')
  process.exit(1)
}
const built = Math.min(...readdirSync(dist).map((f) => statSync(join(dist, f)).mtimeMs))
if (newest(join(ROOT, 'src')) > built) {
  console.error('dist/ is older than src/: run `npm run build` first')
  process.exit(1)
}

const work = mkdtempSync(join(tmpdir(), 'resilient-rpc-pack-'))
try {
  // 1. Pack: the file list and sizes npm reports, and the tarball for the consumer projects.
  const packed = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT })
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`)
  const [report] = JSON.parse(packed.stdout)
  const files = new Map(report.files.map((f) => [f.path, f.size]))
  for (const path of files.keys()) {
    const forbidden = FORBIDDEN.find(([re]) => re.test(path))
    if (forbidden) fail(`${path} ships, but ${forbidden[1]}`)
    else if (!ALLOWED.some((re) => re.test(path))) fail(`${path} ships but is not on the allow-list (scripts/check-pack.mjs)`)
  }
  for (const path of REQUIRED) if (!files.has(path)) fail(`${path} is missing from the package`)

  // The package as npm would unpack it, with its dependencies and typescript linked from this repository.
  const tarball = join(work, report.filename)
  const project = (name, links) => {
    const dir = join(work, name)
    const modules = join(dir, 'node_modules')
    mkdirSync(join(modules, 'resilient-rpc'), { recursive: true })
    const untar = run('tar', ['-xzf', tarball, '-C', join(modules, 'resilient-rpc'), '--strip-components=1'])
    if (untar.status !== 0) throw new Error(`tar failed:\n${untar.stderr}`)
    for (const name of links) {
      mkdirSync(dirname(join(modules, name)), { recursive: true })
      symlinkSync(join(ROOT, 'node_modules', name), join(modules, name), 'junction')
    }
    return dir
  }
  const deps = [...Object.keys(pkg.dependencies), 'typescript', '@types/node']
  const bare = project('bare', deps)
  const installed = join(bare, 'node_modules', 'resilient-rpc')

  // 2. Source maps: shipped only with the sources inside, for a script that ships.
  for (const path of files.keys()) {
    const text = readFileSync(join(installed, path), 'utf8')
    if (/\.(c|m)?js$/.test(path)) {
      const url = /\n\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1]
      if (url && !files.has(posix.join(posix.dirname(path), url))) fail(`${path} refers to ${url}, which does not ship`)
    }
    if (!path.endsWith('.map')) continue
    if (!files.has(path.slice(0, -'.map'.length))) fail(`${path} ships without its script`)
    const map = JSON.parse(text)
    const missing = map.sources.filter((_, i) => typeof map.sourcesContent?.[i] !== 'string')
    if (missing.length > 0) fail(`${path} lacks the content of ${missing.length} of its ${map.sources.length} sources (e.g. ${missing[0]}): without src/ in the package it maps to nothing`)
    // Relative names only: an absolute one would publish the build machine's directories.
    const absolute = map.sources.filter((s) => posix.isAbsolute(s) || /^([a-z]+:|\\)/i.test(s))
    if (absolute.length > 0) fail(`${path} names its sources by absolute paths (e.g. ${absolute[0]})`)
  }

  // 3. Paths named in the types and the help, and links in the shipped Markdown.
  const named = (where, text) => {
    for (const [match] of text.matchAll(REPO_PATH)) {
      const path = match.replace(/\.+$/, '')
      const held = path.endsWith('/') ? [...files.keys()].some((f) => f.startsWith(path)) : files.has(path)
      if (!held) fail(`${where} names ${path}, which the package does not hold`)
    }
  }
  for (const path of files.keys()) if (path.endsWith('.d.ts') || path.endsWith('.d.cts')) named(path, readFileSync(join(installed, path), 'utf8'))
  const cli = join(installed, pkg.bin['resilient-rpc'])
  const helps = await Promise.all([['--help'], ...['health', 'call', 'read'].map((c) => ['help', c])].map((args) => runAsync(process.execPath, [cli, ...args], { cwd: bare })))
  for (const [i, help] of helps.entries()) {
    if (help.code !== 0) fail(`resilient-rpc ${i === 0 ? '--help' : 'help'} exited ${help.code}:\n${help.output}`)
    named('the CLI help', help.output.replace(/^Docs: .*$/m, ''))
  }
  const docsLine = /^Docs: (.*)$/m.exec(helps[0].output)?.[1]
  if (docsLine === undefined || !existsSync(docsLine) || realpathSync(docsLine) !== realpathSync(join(installed, 'docs', 'cli.md'))) fail(`resilient-rpc --help should point to the installed docs/cli.md, says: Docs: ${docsLine}`)
  for (const path of files.keys()) {
    if (!path.endsWith('.md')) continue
    // Links outside code: fenced blocks and inline code are dropped first (`handlers[i](event)` is no link).
    const prose = readFileSync(join(installed, path), 'utf8').replace(/^```[^]*?^```/gm, '').replace(/`[^`\n]*`/g, '')
    for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^([a-z]+:|#)/i.test(target)) continue
      const file = posix.normalize(posix.join(posix.dirname(path), target.split('#')[0]))
      if (!files.has(file)) fail(`${path} links to ${target}, which the package does not hold`)
    }
  }

  // 4. Size.
  console.log(`package: ${files.size} files, ${kib(report.size)} packed, ${kib(report.unpackedSize)} unpacked`)
  if (report.size > BUDGET.packed) fail(`the tarball is ${kib(report.size)}, over its ${kib(BUDGET.packed)} budget`)
  if (report.unpackedSize > BUDGET.unpacked) fail(`the package unpacks to ${kib(report.unpackedSize)}, over its ${kib(BUDGET.unpacked)} budget`)

  // 5 and 6, side by side: @arethetypeswrong, and a consumer's compile without the peers, then with them.
  const tsconfig = (files, lib = ['es2022']) => JSON.stringify({
    compilerOptions: { strict: true, skipLibCheck: false, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib, types: ['node'], noEmit: true },
    files,
  })
  writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  writeFileSync(join(bare, 'tsconfig.json'), tsconfig(['esm.ts', 'cjs.cts']))
  writeFileSync(join(bare, 'esm.ts'), `import { createContract, createEip1193Provider, createEthersProvider, createOutbox, createPool, createPrometheusMetrics, isResilientRpcError, watchEvents, type PoolOptions, type PromClient, type TracerLike } from 'resilient-rpc'

// A tracer and a metrics client of the user's own: the structural types are all it takes.
const tracer: TracerLike = { startSpan: () => ({ setAttributes() {}, setStatus() {}, end() {} }) }
const options: PoolOptions = { endpoints: ['http://127.0.0.1:8545'], chainId: 1, tracer }
const pool = createPool(options)
declare const client: PromClient
const metrics = createPrometheusMetrics(pool, { client })
const contract = createContract(pool, '0x0000000000000000000000000000000000000001', ['function totalSupply() view returns (uint256)'])
const supply: Promise<unknown> = contract.read('totalSupply')
void [metrics, supply, createEip1193Provider, createEthersProvider, createOutbox, isResilientRpcError, watchEvents]
`)
  writeFileSync(join(bare, 'cjs.cts'), `import rpc = require('resilient-rpc')

const pool: rpc.Pool = rpc.createPool({ endpoints: ['http://127.0.0.1:8545'] })
const failed = (error: unknown): boolean => rpc.isResilientRpcError(error, 'NO_ENDPOINT')
void [pool, failed]
`)
  const withPeers = project('peers', [...deps, '@opentelemetry/api', 'prom-client'])
  writeFileSync(join(withPeers, 'package.json'), JSON.stringify({ name: 'consumer-with-peers', private: true, type: 'module' }))
  writeFileSync(join(withPeers, 'tsconfig.json'), tsconfig(['peers.ts']))
  // resilient-rpc/viem: a viem client on the transport, with the core's errors (one copy, the root's).
  // viem's own types need the DOM library (WebCrypto, WebAuthn), as in any project that uses viem.
  const withViem = project('viem', [...deps, 'viem'])
  writeFileSync(join(withViem, 'package.json'), JSON.stringify({ name: 'consumer-with-viem', private: true, type: 'module' }))
  writeFileSync(join(withViem, 'tsconfig.json'), tsconfig(['viem.ts', 'viem-cjs.cts'], ['es2022', 'dom']))
  writeFileSync(join(withViem, 'viem.ts'), `import { createPublicClient } from 'viem'
import { mainnet } from 'viem/chains'
import { createPool, isResilientRpcError } from 'resilient-rpc'
import { resilientTransport, ResilientRpcRequestError, type ResilientTransport } from 'resilient-rpc/viem'

const transport: ResilientTransport = resilientTransport(createPool({ endpoints: ['http://127.0.0.1:8545'] }), { timeout: 5_000 })
const client = createPublicClient({ chain: mainnet, transport })
const head: Promise<bigint> = client.getBlockNumber()
const pooled = (error: unknown): boolean => error instanceof ResilientRpcRequestError && isResilientRpcError(error.cause)
void [head, pooled, client.transport.pool]
`)
  writeFileSync(join(withViem, 'viem-cjs.cts'), `import viem = require('resilient-rpc/viem')
import rpc = require('resilient-rpc')

const transport: viem.ResilientTransport = viem.resilientTransport(rpc.createPool({ endpoints: ['http://127.0.0.1:8545'] }))
void transport
`)
  writeFileSync(join(withPeers, 'peers.ts'), `import { trace } from '@opentelemetry/api'
import * as client from 'prom-client'
import { createPool, createPrometheusMetrics } from 'resilient-rpc'

const pool = createPool({ endpoints: ['http://127.0.0.1:8545'], tracer: trace.getTracer('consumer') })
const own = createPrometheusMetrics(pool, { client, registry: new client.Registry(), prefix: 'own_' })
const global = createPrometheusMetrics(pool, { client })
const scrapes: Promise<string>[] = [own.registry.metrics(), global.registry.metrics()]
void scrapes
`)
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const attw = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')
  const [types, consumer, peers, viem] = await Promise.all([
    runAsync(process.execPath, [attw, tarball, '--no-emoji'], { cwd: work }),
    runAsync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: bare }),
    runAsync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: withPeers }),
    runAsync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: withViem }),
  ])
  if (types.code !== 0) fail(`@arethetypeswrong found problems:\n${types.output}`)
  if (consumer.code !== 0) fail(`the types do not compile without the optional peers (skipLibCheck: false):\n${consumer.output}`)
  if (peers.code !== 0) fail(`the types do not accept a real tracer, prom-client module or registry:\n${peers.output}`)
  if (viem.code !== 0) fail(`resilient-rpc/viem's types do not compile in a viem project (ESM and CJS):\n${viem.output}`)

  if (problems.length === 0 && process.argv.includes('--write')) writeRecord(report)
} finally {
  rmSync(work, { recursive: true, force: true })
}

if (problems.length > 0) {
  console.error(`The package is not self-contained:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('package ok: allow-listed files, source maps with their sources, every named path shipped, types compile without the optional peers')

/** Writes docs/package-contents.md. The doc ships, so its own size counts: rewritten until the numbers hold. */
function writeRecord(first) {
  let report = first
  for (let round = 0; round < 5; round++) {
    const text = record(report)
    if (existsSync(join(ROOT, DOC)) && readFileSync(join(ROOT, DOC), 'utf8') === text) break
    writeFileSync(join(ROOT, DOC), text)
    report = JSON.parse(run('npm', ['pack', '--json', '--dry-run', '--ignore-scripts'], { cwd: ROOT }).stdout)[0]
  }
  console.log(`wrote ${DOC}`)
}

function record(report) {
  const docs = report.files.filter((f) => f.path.startsWith('docs/'))
  const rows = report.files.filter((f) => !f.path.startsWith('docs/')).map((f) => `| \`${f.path}\` | ${kib(f.size)} |`)
  rows.push(`| \`docs/\` (${docs.length} Markdown files) | ${kib(docs.reduce((n, f) => n + f.size, 0))} |`)
  return `# Package contents

Generated by \`npm run size\` (scripts/check-pack.mjs \`--write\`) from \`npm pack\` of resilient-rpc
${pkg.version}: what \`npm install\` puts in \`node_modules/resilient-rpc\`.

| | |
| --- | ---: |
| packed (the .tgz) | ${kib(report.size)} |
| unpacked | ${kib(report.unpackedSize)} |
| files | ${report.entryCount} |

| file | size |
| --- | ---: |
${rows.join('\n')}

\`npm test\` (\`npm run check:pack\`) packs the package and fails when
- it holds a file off the allow-list in scripts/check-pack.mjs (test files, \`src/\` and \`docs/api/\`
  never ship), or lacks an entry point;
- a source map lacks its sources;
- the types' comments, the CLI's help or a shipped Markdown link name a file the package does not hold;
- it outgrows its budget: ${kib(BUDGET.packed)} packed, ${kib(BUDGET.unpacked)} unpacked;
- @arethetypeswrong finds a problem, or the types fail to compile with \`skipLibCheck: false\` in a
  project without the optional peers \`@opentelemetry/api\` and \`prom-client\` (or, with them, refuse
  a real tracer, prom-client module or registry).

Why what ships, ships:

- **Source maps ship, with the sources inside** (\`sourcesContent\`): \`node --enable-source-maps\`
  stack traces, debuggers and a dApp's bundler show the library's TypeScript, though \`src/\` does not
  ship. They are most of the unpacked size. The CLI ships without one: it reports failures as
  messages, and nobody steps through it.
- **The docs ship** (\`docs/**/*.md\`, not the generated \`docs/api/\`): the README, the types' comments
  and the CLI's help point to them, and \`resilient-rpc --help\` names the installed \`docs/cli.md\`.
`
}
