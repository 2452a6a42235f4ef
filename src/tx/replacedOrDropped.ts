import type { Pool } from '../pool/pool.js'
import { toQuantity } from '../util/hex.js'

// The two ways a transaction ends without being mined, and the evidence for each.

/**
 * Whether another transaction took the nonce of ours and is `confirmations` deep: our receipt does
 * not exist and the sender's count at that depth is past our nonce, so ours can never be mined.
 * Rejects when the pool cannot tell (the caller decides on a later round).
 */
export async function isReplaced(pool: Pool, tx: { hash: string; from: string; nonce: number; confirmations: number }, signal: AbortSignal): Promise<boolean> {
  const { from, nonce, hash, confirmations } = tx
  const count = (block: string) => pool.request<string>('eth_getTransactionCount', [from, block], { signal }).then(BigInt)
  if ((await count('latest')) <= BigInt(nonce)) return false
  // The nonce is used: by ours (the receipt watcher will see it) or by another transaction.
  if ((await pool.request<unknown>('eth_getTransactionReceipt', [hash], { signal })) !== null) return false
  // Depth from the true head (a reference head may be a heartbeat old), as confirmation-depth reads count it.
  const head = await pool.freshHead({ signal })
  const at = head - BigInt(confirmations) + 1n
  return at >= 0n && (await count(toQuantity(at))) > BigInt(nonce)
}

/**
 * Since when every broadcast that reached an endpoint was refused (underpriced, insufficient funds, …).
 * Refusals alone for `dropAfter`, the nonce still unused, make a transaction `dropped`; an acceptance
 * or a receipt starts the count again. An unreachable fleet is no refusal: it neither starts nor resets it.
 */
export class RefusalClock {
  #since: number | undefined

  refused(now: number): void {
    this.#since ??= now
  }

  reset(): void {
    this.#since = undefined
  }

  /** Whether refusals alone have lasted `dropAfter` (ms). */
  lasted(dropAfter: number, now: number): boolean {
    return this.#since !== undefined && now - this.#since >= dropAfter
  }
}
