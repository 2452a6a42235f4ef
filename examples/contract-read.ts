// Read a contract through a pool: a deadline across every retry, and state 12 blocks deep so the
// value will not be rolled back by a reorg.
import { createContract, createPool, isResilientRpcError } from 'resilient-rpc'

const pool = createPool({ endpoints: ['https://rpc-a.example.org', 'https://rpc-b.example.org', 'https://rpc-c.example.org'], chainId: 1 })
const erc20 = createContract(pool, '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', [
  'function balanceOf(address owner) view returns (uint256)',
  'function decimals() view returns (uint8)',
  'error InsufficientBalance(uint256 available, uint256 required)',
])

try {
  await pool.ready({ timeout: 10_000 })
  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  const balance = await erc20.read<bigint>('balanceOf', ['0x000000000000000000000000000000000000dEaD'], {
    confirmations: 12,
    timeout: 5_000,
    signal: controller.signal,
  })
  console.log('balance 12 blocks deep:', balance)
} catch (error) {
  if (isResilientRpcError(error, 'CALL_REVERTED')) console.error('reverted:', error.revert?.errorName, error.revert?.args)
  else if (isResilientRpcError(error, 'TIMEOUT')) console.error('no answer in 5 s; attempts:', error.attempts.map((a) => `${a.endpoint}: ${a.error.code}`))
  else throw error
} finally {
  await pool.destroy()
}
