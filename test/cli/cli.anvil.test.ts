import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { counterAbi } from '../fixtures/contracts/counter.js'
import type { FaultProxy } from '../support/faultProxy.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { NODE_BUNDLE } from '../../scripts/nodeBundle.mjs'

// The bin end to end: src/cli/main.ts bundled as the published dist/cli.js would be, run in a child
// process against anvil through fault proxies, one of which hangs. Every URL carries an API key.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const DIR = join(ROOT, 'node_modules', '.cache', 'resilient-rpc-cli-test', randomUUID())
const CLI = join(DIR, 'cli.mjs')
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const SECRET = 'sk-live-7f3a9c1e5b'
const TOKEN = 'tok-0d1e2f3a4b5c'

// The first endpoint hangs for the whole file; the fixture puts it back to hanging before each test.
const node = useProxiedAnvil({ http: [{ mode: { kind: 'hang' } }, {}, {}], counter: 7n, mine: 10 })
let hanging: FaultProxy
let good: FaultProxy[]
const keyed = (p: FaultProxy) => `${p.url}/v3/${SECRET}`
let urls: string

type Result = { code: number | null; stdout: string; stderr: string; ms: number }

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const started = Date.now()
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: DIR, env: { ...process.env, RESILIENT_RPC_URLS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    // A CLI that does not exit on its own leaked something (a timer, a socket): fail, do not wait.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const result = { code, stdout, stderr, ms: Date.now() - started }
      // Whatever the command, the key and the token never reach the output.
      for (const secret of [SECRET, TOKEN, 'pa55word']) expect(stdout + stderr, 'a secret was printed').not.toContain(secret)
      resolveRun(result)
    })
  })
}

beforeAll(async () => {
  await mkdir(DIR, { recursive: true })
  const bundled = build({
    entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
    outfile: CLI,
    ...NODE_BUNDLE,
    logLevel: 'silent',
  })
  ;[hanging, ...good] = node.http as [FaultProxy, ...FaultProxy[]]
  urls = [hanging, ...good].map(keyed).join(',')
  await bundled
  await writeFile(join(DIR, 'counter.abi.json'), JSON.stringify({ contractName: 'Counter', abi: counterAbi }))
}, 60_000)

afterAll(async () => {
  await rm(DIR, { recursive: true, force: true })
})

// Each command is a fresh node process (about a second each on a loaded 2-core machine).
describe('resilient-rpc CLI against anvil', { timeout: 90_000 }, () => {
  it('health: a table of endpoints by redacted id; exit 0 with enough up, 3 without', async () => {
    const ok = await cli(['health', '--rpc', urls, '--min-healthy', '2', '--timeout', '4000'])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    const lines = ok.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^endpoint\s+chain\s+head\s+lag\s+latency\s+state\s+note$/)
    expect(lines[1]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${hanging.port}#0\\s+–\\s+–\\s+–\\s+–\\s+(connecting|down)\\b`))
    for (const [i, p] of good.entries()) expect(lines[2 + i]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${p.port}#${i + 1}\\s+31337\\s+\\d+\\s+0\\s+\\d+ ms\\s+up$`))
    expect(lines.at(-1)).toBe('2/3 endpoint(s) up; at least 2 needed: ok')

    const short = await cli(['health', '--rpc', urls, '--min-healthy', '3', '--timeout', '2000', '--json'])
    expect(short.code).toBe(3)
    const report = JSON.parse(short.stdout) as { ok: boolean; healthy: number; chainId: string; endpoints: Array<{ endpoint: string; state: string; head?: string }> }
    expect(report).toMatchObject({ ok: false, healthy: 2, minHealthy: 3, chainId: '31337' })
    expect(report.endpoints.map((e) => e.state)).toEqual([expect.stringMatching(/connecting|down/), 'up', 'up'])
    expect(BigInt(report.endpoints[1]!.head!)).toBeGreaterThanOrEqual(11n)
  })

  it('health without --chain-id: one live endpoint and one dead one is enough (the README example); with a wrong --chain-id, nothing is up', async () => {
    const live = keyed(good[0]!)
    const dead = 'http://127.0.0.1:9'
    const ok = await cli(['health', '--rpc', `${live},${dead}`, '--timeout', '4000', '--json'])
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, healthy: 1, chainId: '31337' })
    const wrong = await cli(['health', '--rpc', `${live},${dead}`, '--chain-id', '1', '--timeout', '2000', '--json'])
    expect(wrong.code).toBe(3)
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, healthy: 0, chainId: '1' })
  })

  it('call: prints the result; endpoints from RESILIENT_RPC_URLS; the hanging endpoint costs no failure', async () => {
    const chain = await cli(['call', 'eth_chainId'], { RESILIENT_RPC_URLS: urls })
    expect([chain.code, chain.stdout, chain.stderr]).toEqual([0, '0x7a69\n', ''])

    const balance = await cli(['call', 'eth_getBalance', `["${node.counter}", "latest"]`, '--json'], { RESILIENT_RPC_URLS: urls })
    expect(balance.code).toBe(0)
    expect(JSON.parse(balance.stdout)).toEqual({ result: '0x0' })

    const block = await cli(['call', 'eth_getBlockByNumber', '["0x1", false]', '--rpc', urls])
    expect(block.code).toBe(0)
    expect(JSON.parse(block.stdout)).toMatchObject({ number: '0x1' })
  })

  it('call: a node error exits 1 with its message; bad JSON params exit 2', async () => {
    const unknown = await cli(['call', 'eth_noSuchMethod', '--rpc', urls])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^resilient-rpc: /)
    expect(unknown.stdout).toBe('')

    const usage = await cli(['call', 'eth_getBalance', "['0x1']", '--rpc', urls])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('PARAMS must be a JSON array')
  })

  it('read: decodes the result, at a confirmation depth, from a signature or an ABI file', async () => {
    const value = await cli(['read', '--rpc', urls, '--address', node.counter, '--abi', 'function value() view returns (uint256)'])
    expect([value.code, value.stdout, value.stderr]).toEqual([0, '7\n', ''])

    const head = BigInt(await node.anvil.rpc<string>('eth_blockNumber'))
    const deep = await cli(['read', '--rpc', urls, '-a', node.counter, '--abi', 'counter.abi.json', '--fn', 'owner', '--confirmations', '3', '--json', '--timeout', '5000'])
    expect(deep.code).toBe(0)
    const out = JSON.parse(deep.stdout) as { result: string; function: string; block: string }
    expect(out.result).toBe(new Wallet(DEV_KEY).address)
    expect(out.function).toBe('owner()')
    // head − 3, give or take the blocks that heartbeats had not seen yet.
    expect(BigInt(out.block)).toBeGreaterThanOrEqual(head - 4n)
    expect(BigInt(out.block)).toBeLessThanOrEqual(head - 3n)

    const div = await cli(['read', '--rpc', urls, '-a', node.counter, '--abi', 'counter.abi.json', '--fn', 'failPanic', '7'])
    expect([div.code, div.stdout]).toEqual([0, '1\n'])
  })

  it('read: a revert exits 1 with the decoded reason; bad arguments exit 2 before anything is sent', async () => {
    const revert = await cli(['read', '--rpc', urls, '-a', node.counter, '--abi', 'counter.abi.json', '--fn', 'failCustom', '5', '--json'])
    expect(revert.code).toBe(1)
    const { error } = JSON.parse(revert.stdout) as { error: { code: string; message: string; exit: number } }
    expect(error).toMatchObject({ code: 'CALL_REVERTED', exit: 1 })
    expect(error.message).toMatch(/^failCustom reverted: Unauthorized\(0x[0-9a-fA-F]{40}, 5\)/)

    for (const proxy of good) proxy.resetCounts()
    const bad = await cli(['read', '--rpc', urls, '-a', node.counter, '--abi', 'counter.abi.json', '--fn', 'failPanic'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('expected 1 argument(s) (uint256 divisor), got 0')
    const noAddress = await cli(['read', '--rpc', urls, '-a', '0x12', '--abi', 'counter.abi.json', '--fn', 'value'])
    expect(noAddress.code).toBe(2)
    expect(noAddress.stderr).toContain('address')
    // Only heartbeats reached the endpoints: no eth_call was sent for a command that could not be right.
    expect(good.map((p) => p.methodCounts().eth_call ?? 0)).toEqual([0, 0])
  })

  it('only a hanging endpoint: the deadline ends the call with exit 1 and the process exits at once', async () => {
    const result = await cli(['call', 'eth_blockNumber', '--rpc', keyed(hanging), '--timeout', '1500', '--json'])
    expect(result.code).toBe(1)
    // It never answered a heartbeat, so the call waited for an endpoint until its deadline.
    const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string; exit: number } }
    expect(error).toMatchObject({ code: 'NO_ENDPOINT', exit: 1 })
    expect(error.message).toContain(`http://127.0.0.1:${hanging.port}#0`)
    // Well before the 20 s kill: nothing (the hanging socket included) kept the process alive.
    expect(result.ms).toBeLessThan(15_000)
  })

  it('a config file gives endpoints with headers and pool options; headers and userinfo are never shown', async () => {
    const [a, b] = good as [FaultProxy, FaultProxy]
    const withAuth = `http://admin:pa55word@127.0.0.1:${b.port}/v3/${SECRET}`
    await writeFile(
      join(DIR, 'rpc.json'),
      JSON.stringify({ endpoints: [{ url: keyed(a), headers: { Authorization: `Bearer ${TOKEN}` } }, withAuth, keyed(hanging)], attemptTimeout: 1_000 }),
    )
    const result = await cli(['health', '--config', 'rpc.json', '--timeout', '3000'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`http://127.0.0.1:${a.port}#0`)
    expect(a.lastHeaders().authorization).toBe(`Bearer ${TOKEN}`)
    expect(b.lastHeaders().authorization).toBe(`Basic ${Buffer.from('admin:pa55word').toString('base64')}`)

    const typo = await cli(['health', '--config', 'rpc.json', '--rpc', 'ftp://x'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain('invalid configuration: ')
  })
})
