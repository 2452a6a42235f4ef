import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'

// runCli in-process against a scripted JSON-RPC server: the wiring between parsing, configuration,
// the pool and output, without a child process.

let server: Server
let url: string
let hang = false
const answers: Record<string, unknown> = { eth_chainId: '0x1', eth_blockNumber: '0x64', eth_gasPrice: '0x3b9aca00' }

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string }
      if (hang && method !== 'eth_chainId' && method !== 'eth_blockNumber') return
      res.setHeader('content-type', 'application/json')
      const reply = method in answers ? { result: answers[method] } : { error: { code: -32601, message: `the method ${method} does not exist` } }
      res.end(JSON.stringify({ jsonrpc: '2.0', id, ...reply }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/key/SECRET123`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

async function run(argv: string[], opts: { env?: Record<string, string>; files?: Record<string, string>; signal?: AbortSignal; docs?: string } = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: opts.env ?? {},
    readFile: async (p) => {
      const text = opts.files?.[p]
      if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
      return text
    },
    signal: opts.signal,
    docs: opts.docs,
  })
  expect(stdout + stderr).not.toContain('SECRET123')
  return { code, stdout, stderr }
}

describe('runCli', () => {
  it('prints help and the version', async () => {
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^resilient-rpc \d+\.\d+\.\d+: /)
    expect(help.stdout).toContain('Exit codes: 0 ok · 1 request failed · 2 usage or config error · 3 fewer than --min-healthy up · 130 interrupted')
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  it('the help points to the installed docs/cli.md when the bin found it, else names the file in the package', async () => {
    expect((await run(['--help'], { docs: '/usr/lib/node_modules/resilient-rpc/docs/cli.md' })).stdout).toMatch(/\nDocs: \/usr\/lib\/node_modules\/resilient-rpc\/docs\/cli\.md\n$/)
    expect((await run(['--help'])).stdout).toMatch(/\nDocs: docs\/cli\.md in the resilient-rpc package\n$/)
  })

  it('help COMMAND and COMMAND --help print that command alone; an unknown topic gets the general help', async () => {
    for (const argv of [['help', 'read'], ['read', '--help']]) {
      const out = await run(argv)
      expect(out.code).toBe(0)
      expect(out.stdout).toMatch(/^resilient-rpc read --address ADDR/)
      expect(out.stdout).toContain('Examples:')
      expect(out.stdout).not.toContain('resilient-rpc health [')
    }
    expect((await run(['help', 'health'])).stdout).toContain('Exits 3 when fewer than --min-healthy')
    expect((await run(['call', '-h'])).stdout).toMatch(/^resilient-rpc call METHOD/)
    expect((await run(['help', 'frob'])).stdout).toMatch(/^resilient-rpc \d+\.\d+\.\d+: /)
  })

  it('usage errors exit 2 with a hint, or as one JSON document with --json', async () => {
    expect(await run(['call'])).toEqual({ code: 2, stdout: '', stderr: "resilient-rpc: call needs a METHOD, e.g. `call eth_blockNumber`\nRun 'resilient-rpc --help' for usage.\n" })
    const json = await run(['frob', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'USAGE', message: 'unknown command "frob": expected health, call or read', exit: 2 } })
    const config = await run(['health', '--rpc', 'ftp://files.example/SECRET123'])
    expect(config.code).toBe(2)
    expect(config.stderr).toBe('resilient-rpc: invalid configuration: Invalid option `endpoints[0].url`: unsupported scheme "ftp:"; expected http:, https:, ws: or wss:\nRun \'resilient-rpc --help\' for usage.\n')
  })

  it.each([
    { name: 'a typo in the keyword', argv: ['--abi', 'functon value() view returns (uint256)'], message: '--abi: signature "functon value() view returns (uint256)" does not parse: "functon" is not a keyword (did you mean "function"?): a signature starts with function, error, event, constructor, fallback, receive, struct or the function\'s name; write e.g. "function value() view returns (uint256)"' },
    { name: 'a missing parenthesis', argv: ['--abi', 'value()(uint256'], message: '--abi: signature "value()(uint256" does not parse: unbalanced parentheses (2 "(" and 1 ")"); write e.g. "function value() view returns (uint256)"' },
    { name: "cast's output syntax", argv: ['--abi', 'value()(uint256)'], message: '--abi: signature "value()(uint256)" does not parse: the output types need "returns" before them; write e.g. "function value() view returns (uint256)"' },
    { name: 'outputs without parentheses', argv: ['--abi', 'value() view returns (uint256); owner() view returns address'], message: '--abi: signature 2 "owner() view returns address" does not parse: the output types after "returns" go in parentheses; write e.g. "function value() view returns (uint256)"' },
    { name: 'a word that is not a number', argv: ['--abi', 'function f(uint256 n) view returns (uint256)', 'ten'], message: 'argument 1 (uint256 n): "ten" is not a number' },
    { name: 'a negative number for a uint', argv: ['--abi', 'function f(uint8 small) view returns (uint256)', '-5'], message: 'argument 1 (uint8 small): "-5" is out of range for uint8 (0 to 255)' },
    { name: 'a short bytes32', argv: ['--abi', 'function f(bytes32 tag) view returns (uint256)', '0x1234'], message: 'argument 1 (bytes32 tag): "0x1234" has 2 bytes, bytes32 needs 32' },
    { name: 'a negative block', argv: ['--abi', 'function f() view returns (uint256)', '--block', '-1'], message: '--block: a block number cannot be negative, got -1' },
  ])('read says what is wrong with the input, before sending: $name', async ({ argv, message }) => {
    const out = await run(['read', '--rpc', url, '--address', '0x5FbDB2315678afecb367f032d93F642f64180aa3', ...argv])
    expect(out).toEqual({ code: 2, stdout: '', stderr: `resilient-rpc: ${message}\nRun 'resilient-rpc --help' for usage.\n` })
  })

  it('read takes a negative number for an int argument without `--`', async () => {
    answers.eth_call = `0x${'ff'.repeat(32)}`
    try {
      const out = await run(['read', '--rpc', url, '--address', '0x5FbDB2315678afecb367f032d93F642f64180aa3', '--abi', 'function f(int256 x) view returns (int256)', '-1'])
      expect(out).toEqual({ code: 0, stdout: '-1\n', stderr: '' })
    } finally {
      delete answers.eth_call
    }
  })

  it('call prints the result; endpoints from the environment', async () => {
    expect(await run(['call', 'eth_gasPrice'], { env: { RESILIENT_RPC_URLS: url } })).toEqual({ code: 0, stdout: '0x3b9aca00\n', stderr: '' })
    const missing = await run(['call', 'eth_nope', '--rpc', url, '--json'])
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'RPC_ERROR', exit: 1 } })
  })

  it('health counts endpoints up against --min-healthy, from a config file', async () => {
    const files = { 'rpc.json': JSON.stringify({ endpoints: [{ url, name: 'local' }], heartbeat: { interval: 100, timeout: 500 } }) }
    const ok = await run(['health', '--config', 'rpc.json', '--json'], { files })
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, healthy: 1, chainId: '1', endpoints: [{ endpoint: 'local', head: '100', state: 'up' }] })
    const short = await run(['health', '--config', 'rpc.json', '--min-healthy', '2'], { files })
    expect(short.code).toBe(3)
    expect(short.stdout).toContain('1/1 endpoint(s) up; at least 2 needed: NOT ENOUGH')
  })

  it('an interrupt cancels the request in flight and exits 130', async () => {
    hang = true
    try {
      const interrupt = new AbortController()
      setTimeout(() => interrupt.abort(), 300)
      const started = Date.now()
      const result = await run(['call', 'eth_gasPrice', '--rpc', url, '--timeout', '20000'], { signal: interrupt.signal })
      expect(result).toEqual({ code: 130, stdout: '', stderr: 'resilient-rpc: interrupted\n' })
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      hang = false
    }
  })
})
