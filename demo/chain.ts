import { AbiCoder, Wallet } from 'ethers'
import { sendRawTransaction, waitForTransaction, type Pool } from '../src/index.js'
import { counterAbi, counterBytecode } from '../test/fixtures/contracts/counter.js'
import { startAnvil, type Anvil } from '../test/support/anvil.js'
import { createFaultProxy, type FaultProxy } from '../test/support/faultProxy.js'

export { counterAbi }

export const CHAIN_ID = 31337
// anvil's first two well-known dev accounts: public test keys, worthless outside a local node.
const SENDER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
export const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

export type Lab = {
  anvil: Anvil
  proxies: FaultProxy[]
  /** Stops the miner, closes the proxies, stops anvil. Idempotent; never rejects. */
  stop(): Promise<void>
}

/**
 * One anvil behind three fault proxies: three endpoints of one chain. Anvil mines a block on every
 * transaction; a timer mines one more every `blockMs` so heads move and a frozen one falls behind.
 */
export async function startLab(opts: { blockMs: number }): Promise<Lab> {
  const anvil = await startAnvil({ chainId: CHAIN_ID })
  const proxies: FaultProxy[] = []
  let miner: NodeJS.Timeout | undefined
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(miner)
      await Promise.allSettled(proxies.map((p) => p.close()))
      await anvil.stop()
    })())
  try {
    for (let i = 0; i < 3; i++) proxies.push(await createFaultProxy(anvil.url))
    // History for confirmation-depth reads from the first second.
    await anvil.mine(10)
    miner = setInterval(() => void anvil.mine(1).catch(() => {}), opts.blockMs)
    return { anvil, proxies, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Signs locally and sends through the pool. The nonce comes from anvil itself: a transfer that timed
 * out may still have landed, and the demo is about the pool, not about nonce bookkeeping.
 */
export function createSender(pool: Pool, anvil: Anvil) {
  const wallet = new Wallet(SENDER_KEY)
  const sign = async (tx: { to?: string; data?: string; value?: bigint; gasLimit: bigint }) => {
    const nonce = Number(await anvil.rpc<string>('eth_getTransactionCount', [wallet.address, 'pending']))
    return wallet.signTransaction({ ...tx, nonce, chainId: CHAIN_ID, type: 2, maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n })
  }
  return {
    address: wallet.address,
    async deployCounter(signal: AbortSignal): Promise<string> {
      const data = counterBytecode + AbiCoder.defaultAbiCoder().encode(['uint256'], [42n]).slice(2)
      const hash = await sendRawTransaction(pool, await sign({ data, gasLimit: 1_000_000n }), { timeout: 10_000, signal })
      const receipt = await waitForTransaction(pool, hash, { timeout: 10_000, pollInterval: 100, signal })
      const address = receipt.contractAddress
      if (receipt.status !== '0x1' || typeof address !== 'string') throw new Error('the Counter deployment failed')
      return address
    },
    /** A 0.001 ETH transfer: broadcast, then wait until it is mined on the canonical chain. */
    async transfer(options: { timeout: number; signal: AbortSignal }): Promise<void> {
      const signed = await sign({ to: RECIPIENT, value: 10n ** 15n, gasLimit: 21_000n })
      const deadline = Date.now() + options.timeout
      const hash = await sendRawTransaction(pool, signed, options)
      await waitForTransaction(pool, hash, { timeout: Math.max(1, deadline - Date.now()), pollInterval: 200, signal: options.signal })
    },
  }
}
