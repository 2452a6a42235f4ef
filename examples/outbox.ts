// A payment service's transaction outbox: signed transactions are stored before they are sent, kept
// alive through endpoint outages, and picked up again after a restart. Logs and traces go to the
// service's own logger and tracer.
import { trace } from '@opentelemetry/api'
import { Wallet } from 'ethers'
import { createOutbox, createPool, type Logger, type OutboxEntry, type OutboxStorage } from 'resilient-rpc'

// Any pino-style logger fits; this one writes JSON lines.
const line = (level: string) => (obj: Record<string, unknown>, msg: string) => console.log(JSON.stringify({ level, msg, ...obj }))
const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') }

const pool = createPool({
  endpoints: [process.env.RPC_A!, process.env.RPC_B!],
  chainId: 11155111,
  logger,
  tracer: trace.getTracer('payments'),
})

// A file or a database table in a real service; a map here. Entries are plain JSON.
const table = new Map<string, string>()
const storage: OutboxStorage = {
  load: () => [...table.values()].map((json) => JSON.parse(json) as OutboxEntry),
  save: (entry) => void table.set(entry.hash, JSON.stringify(entry)),
  remove: (hash) => void table.delete(hash),
}

const outbox = createOutbox(pool, { storage, rebroadcastInterval: 15_000 })
outbox.on('state', ({ hash, state }) => logger.info({ hash, status: state.status }, 'outbox'))

try {
  // Whatever a previous run left unfinished is kept alive again.
  await outbox.resume()

  const wallet = new Wallet(process.env.PRIVATE_KEY!)
  const nonce = BigInt(await pool.request<string>('eth_getTransactionCount', [wallet.address, 'pending']))
  const gasPrice = BigInt(await pool.request<string>('eth_gasPrice'))
  const signed = await wallet.signTransaction({
    to: '0x000000000000000000000000000000000000dEaD',
    value: 1_000_000_000_000_000n,
    nonce: Number(nonce),
    gasLimit: 21_000n,
    maxFeePerGas: gasPrice * 2n,
    maxPriorityFeePerGas: 1_000_000_000n,
    chainId: 11155111n,
    type: 2,
  })
  const tx = await outbox.send(signed, { confirmations: 3, timeout: 15 * 60_000 })
  const final = await tx.done
  if (final.status === 'confirmed') console.log('paid in block', final.blockNumber, final.reverted ? '(reverted)' : '')
  else console.log('not paid:', final.status)
} finally {
  outbox.close()
  await pool.destroy()
}
