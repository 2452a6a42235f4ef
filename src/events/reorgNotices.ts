import type { HeadsReorg } from '../subscriptions/heads.js'
import type { WatchState } from './state.js'

/**
 * Takes back what reorgs removed: the delivered events of blocks no longer canonical go back to the
 * handler as `removed` notices, newest first, then the checkpoint goes down to below the lowest
 * removed block (only if it had got there), so the replacements are fetched next.
 */
export async function applyReorgs(state: WatchState, reorgs: readonly HeadsReorg[]): Promise<void> {
  const { progress, chain } = state
  let lowest: bigint | undefined
  for (const r of reorgs) for (const b of r.removed) if (lowest === undefined || b.number < lowest) lowest = b.number
  if (lowest === undefined || progress.processed === undefined) return
  for (const n of progress.orphaned(lowest, (b) => chain.hash(b))) {
    for (let event = progress.lastDelivered(n); event !== undefined; event = progress.lastDelivered(n)) {
      if (!(await state.deliver({ ...event, removed: true }))) return
      progress.takeBack(n)
    }
  }
  if (progress.processed >= lowest) await progress.checkpoint(lowest - 1n)
}
