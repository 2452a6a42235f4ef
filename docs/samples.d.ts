// Names the code samples in README.md and docs/ use without defining them: the reader's own values
// and functions. scripts/check-doc-samples.mjs type-checks every sample with these in scope.
import type { InterfaceAbi } from 'ethers'
import type { Pool, RpcLog, OutboxStorage } from 'resilient-rpc'

declare global {
  const pool: Pool
  const endpoints: string[]
  const token: `0x${string}`
  const owner: `0x${string}`
  const address: `0x${string}`
  const tokenAddress: `0x${string}`
  const transferTopic: `0x${string}`
  const abi: InterfaceAbi
  const checkpoint: bigint
  const signed: string
  const storage: OutboxStorage
  const wallet: { signTransaction(tx: unknown): Promise<string> }
  const tx: unknown
  function handle(log: RpcLog): void
  function undo(log: RpcLog): void
  function saveCheckpoint(block: bigint): Promise<void>
  function credit(args: unknown): Promise<void>
  function pino(): { debug(o: object, m?: string): void; info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void }
  const trace: typeof import('@opentelemetry/api').trace
}
