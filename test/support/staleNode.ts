// How a node whose head is frozen at `head` answers, in geth's words (go-ethereum: internal/ethapi,
// eth/api_backend.go, eth/filters): a read pinned to a block it does not have is refused with
// -32000 "header not found", a block lookup by number answers `null`, a log range reaching past its
// head is refused with -32602, and what was mined after its head is unknown to it. The fault proxy's
// `stale` mode answers so, so that tests exercise a pool asking elsewhere, not merely avoiding.

/** What the proxy does with one request entry of a stale node. */
export type StaleAnswer =
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; error: { code: number; message: string } }
  | { kind: 'forward'; params: unknown; post?: (result: unknown) => unknown }

/** The number of the block with this hash on the real chain, `undefined` when there is none. */
export type BlockLookup = (hash: string) => Promise<bigint | undefined>

const BLOCK_TAGS = new Set(['latest', 'pending', 'safe', 'finalized'])

// State reads: geth's StateAndHeaderByNumberOrHash refuses a block it lacks.
const STATE_READS: Record<string, number> = {
  eth_call: 1,
  eth_getBalance: 1,
  eth_getCode: 1,
  eth_getStorageAt: 2,
  eth_getTransactionCount: 1,
  eth_estimateGas: 1,
  eth_getProof: 2,
  eth_createAccessList: 1,
}
// Block lookups by number: geth answers `null` for a block it lacks.
const BLOCK_LOOKUPS: Record<string, number> = {
  eth_getBlockByNumber: 0,
  eth_getBlockReceipts: 0,
  eth_getBlockTransactionCountByNumber: 0,
  eth_getTransactionByBlockNumberAndIndex: 0,
  eth_getUncleCountByBlockNumber: 0,
  eth_getUncleByBlockNumberAndIndex: 0,
}

export const HEADER_NOT_FOUND = { code: -32000, message: 'header not found' }
export const HASH_NOT_FOUND = { code: -32000, message: 'header for hash not found' }
export const UNKNOWN_BLOCK = { code: -32000, message: 'unknown block' }
export const RANGE_INTO_FUTURE = { code: -32602, message: 'block range extends beyond current head block' }
export const INVALID_RANGE = { code: -32602, message: 'invalid block range params' }

const toHex = (n: bigint) => `0x${n.toString(16)}`
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
const isHash = (x: unknown): x is string => typeof x === 'string' && /^0x[0-9a-fA-F]{64}$/.test(x)
const quantity = (x: unknown): bigint | undefined => (typeof x === 'string' && /^0x[0-9a-fA-F]{1,63}$/.test(x) ? BigInt(x) : undefined)

/** Rewrites block tags anywhere in params, so eth_getLogs filters and eth_call block args are frozen too. */
export function freezeTags(value: unknown, height: string): unknown {
  if (typeof value === 'string') return BLOCK_TAGS.has(value) ? height : value
  if (Array.isArray(value)) return value.map((v) => freezeTags(v, height))
  if (!isObject(value)) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, freezeTags(v, height)]))
}

/**
 * What a node frozen at `head` does with `method(params)`: answers it itself (its head, a refusal,
 * `null`) or lets the real node answer with the block tags frozen, and its answer checked against
 * `head` when it may be about a later block.
 */
export async function staleAnswer(method: string, params: unknown, head: bigint, lookup: BlockLookup): Promise<StaleAnswer> {
  if (method === 'eth_blockNumber') return { kind: 'result', result: toHex(head) }
  const frozen = freezeTags(params, toHex(head))
  const args = Array.isArray(frozen) ? frozen : []
  const forward: StaleAnswer = { kind: 'forward', params: frozen }
  const state = STATE_READS[method]
  const lookupIndex = BLOCK_LOOKUPS[method]
  if (state !== undefined || lookupIndex !== undefined) {
    const block = await pinnedBlock(args[state ?? lookupIndex!], lookup)
    if (block === undefined || block.number <= head) return forward
    if (lookupIndex !== undefined) return { kind: 'result', result: null }
    return { kind: 'error', error: block.byHash ? HASH_NOT_FOUND : HEADER_NOT_FOUND }
  }
  switch (method) {
    case 'eth_getLogs':
      return (await logsRefusal(args[0], head, lookup)) ?? forward
    case 'eth_getTransactionReceipt':
    case 'eth_getTransactionByHash':
      // Mined after the freeze: the node has not seen that block, so neither the transaction in it.
      return { ...forward, post: (r) => (isObject(r) && (quantity(r.blockNumber) ?? 0n) > head ? null : r) }
    case 'eth_getBlockByHash':
      return { ...forward, post: (r) => (isObject(r) && (quantity(r.number) ?? 0n) > head ? null : r) }
  }
  return forward
}

/** The block a block parameter names (a number, a hash, or EIP-1898's `{ blockNumber }` / `{ blockHash }`). */
async function pinnedBlock(param: unknown, lookup: BlockLookup): Promise<{ number: bigint; byHash: boolean } | undefined> {
  const hash = isHash(param) ? param : isObject(param) && isHash(param.blockHash) ? param.blockHash : undefined
  if (hash !== undefined) {
    const number = await lookup(hash)
    return number === undefined ? undefined : { number, byHash: true }
  }
  const number = quantity(isObject(param) ? param.blockNumber : param)
  return number === undefined ? undefined : { number, byHash: false }
}

/** geth's refusal of a log query about blocks past its head (eth/filters/api.go, filter.go), if any. */
async function logsRefusal(filter: unknown, head: bigint, lookup: BlockLookup): Promise<StaleAnswer | undefined> {
  if (!isObject(filter)) return undefined
  if (isHash(filter.blockHash)) {
    const number = await lookup(filter.blockHash)
    return number !== undefined && number > head ? { kind: 'error', error: UNKNOWN_BLOCK } : undefined
  }
  // Omitted bounds mean the head (the tags are frozen to it already).
  const from = filter.fromBlock === undefined ? head : quantity(filter.fromBlock)
  const to = filter.toBlock === undefined ? head : quantity(filter.toBlock)
  if (from === undefined || to === undefined) return undefined
  // geth checks the order of the bounds first (both after `latest` is resolved to its head).
  if (from > to) return { kind: 'error', error: INVALID_RANGE }
  if (to > head) return { kind: 'error', error: RANGE_INTO_FUTURE }
  return undefined
}
