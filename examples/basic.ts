// A pool over three endpoints: one request with a deadline, events, stats, clean shutdown.
import { createPool, isResilientRpcError } from 'resilient-rpc'

const pool = createPool({
  endpoints: [
    'https://rpc-a.example.org',
    { url: 'https://rpc-b.example.org', weight: 3, name: 'b' },
    { url: 'https://rpc-c.example.org', tier: 'backup', headers: { Authorization: 'Bearer <token>' }, name: 'c' },
  ],
  strategy: 'least-connections',
})

pool.on('endpoint:state', (e) => console.log(`${e.endpoint}: ${e.from} -> ${e.to}`, e.reason?.shortMessage ?? ''))
pool.on('circuit:open', (e) => console.log(`${e.endpoint}: circuit open`))

try {
  const head = await pool.request<string>('eth_blockNumber', [], { timeout: 5_000, signal: AbortSignal.timeout(10_000) })
  console.log('head', BigInt(head))
} catch (error) {
  if (isResilientRpcError(error, 'TIMEOUT')) console.error('no answer within 5 s:', error.attempts)
  else throw error
} finally {
  console.table(pool.stats().endpoints)
  await pool.destroy()
}
