import { parseLogs } from './parseLogs.js'
import type { WatchState } from './state.js'

/**
 * Blocks inside the reorg window, `from`…`to`: each block's canonical hash from the head stream
 * (walking parents by hash where needed), its logs by that hash (EIP-234), so no endpoint on another
 * branch can answer for it; the blocks fetched together, their events handed over in order, a
 * checkpoint after each block. Returns whether any block was completed: `false` when the chain moved
 * under the walk (a reorg or a gap), and the next step looks again.
 * @throws what the pool throws; `INVALID_RESPONSE` for a log of another block or a block that comes back as another
 */
export async function fetchByHash(state: WatchState, from: bigint, to: bigint): Promise<boolean> {
  const { pool, signal, chain, progress } = state
  const blocks: Array<{ n: bigint; hash: string }> = []
  for (let n = from; n <= to; n++) {
    const hash = await chain.resolve(n, (h, s) => pool.request('eth_getBlockByHash', [h, false], { signal: s }), signal)
    if (hash === undefined) break
    blocks.push({ n, hash })
  }
  const answers = await Promise.all(blocks.map((b) => pool.request('eth_getLogs', [{ ...state.filter, blockHash: b.hash }], { signal })))
  let progressed = false
  for (const [i, { n, hash }] of blocks.entries()) {
    const canonical = () => chain.hash(n) === hash
    const logs = parseLogs(answers[i], (log) => BigInt(log.blockNumber) === n && log.blockHash.toLowerCase() === hash.toLowerCase())
    for (const log of logs) {
      const event = state.decoder.decode(log, false)
      if (!(await state.deliver(event, canonical))) break
      progress.delivered(n, hash, event)
    }
    if (signal.aborted || !canonical()) break
    progressed = true
    await progress.checkpoint(n)
  }
  // What is older than the window can no longer be reported as removed: let it go.
  const settled = chain.settledAt
  if (settled !== undefined) progress.settle(settled)
  return progressed
}
