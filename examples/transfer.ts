// A transfer signed locally (the key never leaves this process) and broadcast to every endpoint,
// then awaited until 3 blocks deep, following it through reorgs.
import { Wallet } from 'ethers'
import { createPool, sendRawTransaction, waitForTransaction } from 'resilient-rpc'

const pool = createPool({ endpoints: ['https://rpc-a.example.org', 'https://rpc-b.example.org'], chainId: 11155111 })
const wallet = new Wallet(process.env.PRIVATE_KEY!)

try {
  await pool.ready({ timeout: 10_000 })
  const nonce = BigInt(await pool.request<string>('eth_getTransactionCount', [wallet.address, 'pending']))
  const fees = await pool.request<string>('eth_gasPrice')
  // The signed bytes can be kept and sent again later: the same transaction is mined at most once.
  const signed = await wallet.signTransaction({
    to: '0x000000000000000000000000000000000000dEaD',
    value: 1_000_000_000_000_000n,
    nonce: Number(nonce),
    gasLimit: 21_000n,
    maxFeePerGas: BigInt(fees) * 2n,
    maxPriorityFeePerGas: 1_000_000_000n,
    chainId: 11155111n,
    type: 2,
  })
  const hash = await sendRawTransaction(pool, signed, { timeout: 15_000 })
  console.log('accepted:', hash)
  const receipt = await waitForTransaction(pool, hash, {
    confirmations: 3,
    timeout: 180_000,
    onState: (state) => console.log('state:', state.status, 'blockNumber' in state ? state.blockNumber : ''),
  })
  console.log('3 deep in block', BigInt(receipt.blockNumber), receipt.status === '0x1' ? 'succeeded' : 'reverted')
} finally {
  await pool.destroy()
}
