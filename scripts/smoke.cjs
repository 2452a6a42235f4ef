// Smoke test of the built package on one Node version: `require`, `import` and the browser entry
// (which runs on the global fetch, present in Node too) all load it, and a request through a pool
// reaches a JSON-RPC server. Run by CI on the lowest supported Node.
const http = require('node:http')
const path = require('node:path')
const { pathToFileURL } = require('node:url')

async function main() {
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const { id } = JSON.parse(body)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result: '0x2a' }))
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${server.address().port}`
  const root = path.resolve(__dirname, '..')
  const cjs = require(root)
  const esm = await import(pathToFileURL(path.join(root, 'dist/index.js')).href)
  const browser = await import(pathToFileURL(path.join(root, require(path.join(root, 'package.json')).exports['.'].browser.default)).href)
  for (const [kind, mod] of [['require', cjs], ['import', esm], ['browser', browser]]) {
    const pool = mod.createPool({ endpoints: [url] })
    const result = await pool.request('eth_blockNumber', [], { timeout: 5_000 })
    await pool.destroy()
    if (result !== '0x2a') throw new Error(`${kind}: unexpected result ${result}`)
    if (!mod.isResilientRpcError(new mod.TimeoutError('request', 1), 'TIMEOUT')) throw new Error(`${kind}: error guard broken`)
  }
  // resilient-rpc/viem, both ways, by the package's own name as a user's code names it: a viem client
  // on a pool of the root entry (the very module the subpath imports, so one copy of the core).
  const { createPublicClient } = require('viem')
  const viaImport = await import('resilient-rpc/viem')
  for (const [kind, entry, core] of [['require', require('resilient-rpc/viem'), cjs], ['import', viaImport, esm]]) {
    const pool = core.createPool({ endpoints: [url] })
    const head = await createPublicClient({ transport: entry.resilientTransport(pool) }).getBlockNumber()
    await pool.destroy()
    if (head !== 42n) throw new Error(`viem ${kind}: unexpected head ${head}`)
  }
  server.close()
  console.log(`smoke ok on Node ${process.version}: require, import, the browser entry and resilient-rpc/viem`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
