import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { runCli } from '../../src/cli/run.js'

// Secrets in every place an endpoint can carry one (URL path, query, userinfo, headers from a config
// file, a WebSocket URL) must never reach the CLI's output: not in tables, JSON, results, errors of
// failing endpoints, nor configuration errors. One node:http server plays every kind of endpoint by
// the first segment of its path; runCli runs in-process, stdout and stderr captured.

const PATH_KEY = 'PathKey9f8e7d'
const QUERY_KEY = 'QueryKey6c5b4a'
const PASSWORD = 'Passw0rd3d2c1b'
const TOKEN = 'BearerTok0a9b8c'
const HEADER_KEY = 'HeaderKey7d6e5f'
const SECRETS = [PATH_KEY, QUERY_KEY, PASSWORD, TOKEN, HEADER_KEY]

let http: Server
let ws: WebSocketServer
let base: string
let wsBase: string

const answer = (method: string): unknown =>
  ({ eth_chainId: '0x1', eth_blockNumber: '0x64', eth_call: `0x${'2a'.padStart(64, '0')}` })[method]

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const kind = req.url!.split('/')[1]
      if (kind === 'hang') return
      if (kind === '401') return void res.writeHead(401).end('unauthorized')
      if (kind === '500') return void res.writeHead(500).end('<html>internal error</html>')
      if (kind === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":')
      const { id, method } = JSON.parse(body) as { id: number; method: string }
      const result = answer(method)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ jsonrpc: '2.0', id, ...(result === undefined ? { error: { code: -32601, message: `the method ${method} does not exist` } } : { result }) }))
    })
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  base = `127.0.0.1:${(http.address() as AddressInfo).port}`
  ws = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  ws.on('connection', (socket) =>
    socket.on('message', (data) => {
      const { id, method } = JSON.parse(data.toString()) as { id: number; method: string }
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: answer(method) ?? null }))
    }),
  )
  await new Promise<void>((r) => ws.once('listening', () => r()))
  wsBase = `127.0.0.1:${(ws.address() as AddressInfo).port}`
})

afterAll(async () => {
  http.closeAllConnections()
  await new Promise((r) => http.close(r))
  for (const client of ws.clients) client.terminate()
  await new Promise((r) => ws.close(r))
})

/** Every way of carrying a secret, on an endpoint of the given kind (`ok`, `401`, `500`, `garbage`, `hang`). */
const keyed = (kind: string) => [
  `http://${base}/${kind}/v3/${PATH_KEY}`,
  `http://${base}/${kind}/rpc?apikey=${QUERY_KEY}&x=1`,
  `http://user:${PASSWORD}@${base}/${kind}/`,
]
const configFile = (kind: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    endpoints: [...keyed(kind), { url: `http://${base}/${kind}/h`, headers: { Authorization: `Bearer ${TOKEN}`, 'X-Api-Key': HEADER_KEY } }],
    heartbeat: { interval: 50, timeout: 300 },
    backoff: { initial: 5, max: 20 },
    ...extra,
  })

async function run(argv: string[], files: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
    readFile: async (p) => {
      const text = files[p]
      if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
      return text
    },
  })
  const output = stdout + stderr
  expect(output.trim(), 'the command printed nothing').not.toBe('')
  for (const secret of SECRETS) expect(output, `a secret was printed: ${output}`).not.toContain(secret)
  return { code, stdout, stderr }
}

const READ = ['read', '--address', '0x00000000000000000000000000000000000000aa', '--abi', 'function value() view returns (uint256)']

describe('the CLI never prints an endpoint secret', () => {
  it('health, call and read against working endpoints, as text and as JSON', async () => {
    const files = { 'rpc.json': configFile('ok') }
    const health = await run(['health', '--config', 'rpc.json', '--timeout', '2000', '--min-healthy', '4'], files)
    expect(health.code).toBe(0)
    expect(health.stdout).toContain('4/4 endpoint(s) up')
    const healthJson = await run(['health', '--config', 'rpc.json', '--timeout', '2000', '--json'], files)
    expect(JSON.parse(healthJson.stdout)).toMatchObject({ ok: true, healthy: 4 })
    expect(await run(['call', 'eth_blockNumber', '--rpc', keyed('ok').join(',')])).toEqual({ code: 0, stdout: '0x64\n', stderr: '' })
    expect((await run(['call', 'eth_chainId', '--config', 'rpc.json', '--json'], files)).stdout).toBe('{"result":"0x1"}\n')
    expect(await run([...READ, '--config', 'rpc.json'], files)).toEqual({ code: 0, stdout: '42\n', stderr: '' })
    expect(JSON.parse((await run([...READ, '--rpc', keyed('ok').join(','), '--json', '--confirmations', '2'])).stdout)).toMatchObject({ result: '42', block: '98' })
    // The node's own error, through a keyed endpoint.
    const nope = await run(['call', 'eth_nope', '--rpc', keyed('ok')[1]!, '--json'])
    expect(JSON.parse(nope.stdout)).toMatchObject({ error: { code: 'RPC_ERROR', exit: 1 } })
  })

  it('a WebSocket endpoint with a key in its path and query', async () => {
    const url = `ws://${wsBase}/v3/${PATH_KEY}?apikey=${QUERY_KEY}`
    expect(await run(['call', 'eth_blockNumber', '--rpc', url])).toEqual({ code: 0, stdout: '0x64\n', stderr: '' })
    const health = await run(['health', '--rpc', url, '--timeout', '2000', '--json'])
    expect(JSON.parse(health.stdout)).toMatchObject({ ok: true, endpoints: [{ endpoint: `ws://${wsBase}#0` }] })
    const refused = await run(['call', 'eth_blockNumber', '--rpc', `ws://user:${PASSWORD}@127.0.0.1:1/v3/${PATH_KEY}?apikey=${QUERY_KEY}`, '--timeout', '500'])
    expect(refused.code).toBe(1)
  })

  for (const kind of ['401', '500', 'garbage', 'hang']) {
    it(`endpoints that fail (${kind}): health notes, errors as text and JSON`, async () => {
      const files = { 'rpc.json': configFile(kind, { attemptTimeout: 200 }) }
      const health = await run(['health', '--config', 'rpc.json', '--timeout', '300'], files)
      expect(health.code).toBe(3)
      expect(health.stdout).toContain('0/4 endpoint(s) up')
      const healthJson = await run(['health', '--config', 'rpc.json', '--timeout', '300', '--json'], files)
      expect(JSON.parse(healthJson.stdout)).toMatchObject({ ok: false, healthy: 0 })
      const failed = await run(['call', 'eth_blockNumber', '--config', 'rpc.json', '--timeout', '400'], files)
      expect(failed.code).toBe(1)
      expect(failed.stderr).toMatch(/^resilient-rpc: /)
      const failedJson = await run([...READ, '--config', 'rpc.json', '--timeout', '400', '--json'], files)
      expect(JSON.parse(failedJson.stdout)).toMatchObject({ error: { exit: 1 } })
    })
  }

  it('configuration errors: malformed URLs, bad headers, a config file that is not JSON', async () => {
    const bad = [
      `http://user:${PASSWORD}@exa mple.com/v3/${PATH_KEY}`,
      `http://${base}:99999/v3/${PATH_KEY}?apikey=${QUERY_KEY}`,
      `ftp://user:${PASSWORD}@files.example/${PATH_KEY}?apikey=${QUERY_KEY}`,
      `http://[${PATH_KEY}]/`,
    ]
    for (const url of bad) expect((await run(['call', 'eth_blockNumber', '--rpc', url])).code).toBe(2)
    const headers = [{ Authorization: `Bearer ${TOKEN}\n` }, { [`X-${HEADER_KEY} `]: 'v' }, { 'X-Api-Key': HEADER_KEY, Authorization: 42 }]
    for (const h of headers) {
      const files = { 'rpc.json': JSON.stringify({ endpoints: [{ url: `http://${base}/ok/`, headers: h }] }) }
      expect((await run(['health', '--config', 'rpc.json', '--json'], files)).code).toBe(2)
    }
    // JSON.parse's message quotes the text around the error: here, a key.
    const broken = [
      `{"endpoints": [{"url": "http://${base}/ok/", "headers": {Authorization: "Bearer ${TOKEN}"}}]}`,
      `{"endpoints": [{"url": "http://${base}/ok/", "headers": {"Authorization": Bearer ${TOKEN}}}]}`,
      `{"endpoints": [http://${base}/v3/${PATH_KEY}]}`,
      `${PATH_KEY}`,
    ]
    for (const text of broken) {
      const result = await run(['health', '--config', 'rpc.json'], { 'rpc.json': text })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/^resilient-rpc: config file "rpc.json" is not valid JSON/)
    }
  })
})
