import { counterBytecode } from '../fixtures/contracts/counter.js'
import type { Anvil } from './anvil.js'
import { DEV_ACCOUNT } from './devAccounts.js'

/**
 * Deploys the Counter fixture contract straight to anvil (not through anything under test), from
 * `from` (default the first dev account), with `initial` as its value; resolves to its address.
 */
export async function deployCounter(anvil: Anvil, initial = 0n, from: string = DEV_ACCOUNT): Promise<string> {
  const data = counterBytecode + initial.toString(16).padStart(64, '0')
  const receipt = await anvil.transact({ from, data })
  if (!receipt.contractAddress || receipt.status !== '0x1') throw new Error(`deployCounter: deployment failed (status ${receipt.status})`)
  return receipt.contractAddress
}
