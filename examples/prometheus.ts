// A pool's metrics on a Prometheus /metrics endpoint, with node:http and prom-client (an optional peer
// dependency: npm install prom-client). Run with RPC_URLS=https://a.example,https://b.example PORT=9464.
import { createServer } from 'node:http'
import * as client from 'prom-client'
import { createPool, createPrometheusMetrics } from 'resilient-rpc'

const pool = createPool({
  endpoints: (process.env.RPC_URLS ?? 'https://rpc-a.example.org,https://rpc-b.example.org').split(','),
})

// A registry of its own; leave `registry` out to use prom-client's global one.
const registry = new client.Registry()
const metrics = createPrometheusMetrics(pool, { client, registry, labels: { chain: 'mainnet' } })

const server = createServer((req, res) => {
  if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
    res.writeHead(404).end()
    return
  }
  // Gauges are read from pool.stats() now, during the scrape: there is no background timer.
  registry.metrics().then(
    (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
    () => res.writeHead(500).end('scrape failed\n'),
  )
})
server.listen(Number(process.env.PORT ?? 9464), () => console.log(`metrics on http://localhost:${process.env.PORT ?? 9464}/metrics`))

// Stop serving, unregister the metrics and their pool listeners, then stop the pool.
async function shutdown(): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  metrics.close()
  await pool.destroy()
}
process.once('SIGINT', () => void shutdown())
process.once('SIGTERM', () => void shutdown())
