// Index a token's Transfer events into a database: every event once, in order, 12 blocks deep, with
// the last fully processed block persisted so a restart neither misses nor repeats anything.
import { createPool, isResilientRpcError, watchEvents } from 'resilient-rpc'

// Stand-ins for a real database: the handler's writes and the checkpoint belong in one transaction.
const db = {
  checkpoint: undefined as bigint | undefined,
  async credit(to: string, value: bigint, id: string): Promise<void> {
    console.log('credit', to, value, id)
  },
  async saveCheckpoint(block: bigint): Promise<void> {
    this.checkpoint = block
  },
}

const pool = createPool({
  endpoints: ['wss://rpc-a.example.org', 'https://rpc-b.example.org', 'https://rpc-c.example.org'],
  chainId: 1,
})
const controller = new AbortController()
process.once('SIGINT', () => controller.abort())

const watcher = watchEvents(
  pool,
  {
    address: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
    abi: ['event Transfer(address indexed from, address indexed to, uint256 value)'],
    eventName: 'Transfer',
    // Resume after the last block we finished; the first run starts at the head.
    fromBlock: db.checkpoint === undefined ? 'latest' : db.checkpoint + 1n,
    confirmations: 12,
    signal: controller.signal,
    onCheckpoint: (block) => db.saveCheckpoint(block),
    onError: (error) => {
      // A failing handler is retried with back-off; say so loudly after a few tries.
      if (isResilientRpcError(error, 'HANDLER_FAILED') && error.failures >= 5) console.error('handler keeps failing:', error.cause)
    },
  },
  async (event) => {
    // A restart re-delivers the events of a block that was half done: key writes by (tx hash, log index).
    const id = `${event.transactionHash}:${event.logIndex}`
    const { to, value } = event.args as { to: string; value: bigint }
    await db.credit(to, event.removed ? -value : value, id)
  },
)

await watcher.done
await pool.destroy()
