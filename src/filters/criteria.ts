import { RpcResponseError } from '../errors/endpoint.js'
import { ADDRESS, HASH, HEX_QUANTITY } from '../util/hex.js'

/** Where a filter's range starts or ends: a block number, or a tag resolved against the head. */
export type BlockBound = { kind: 'number'; block: bigint } | { kind: 'latest' }

/** A validated `eth_newFilter` argument: what to match (forwarded to `eth_getLogs` as given) and the range. */
export type LogCriteria = {
  /** `address` and `topics` exactly as the caller gave them (validated), for `eth_getLogs`. */
  match: { address?: string | string[]; topics?: (string | null | (string | null)[])[] }
  from: BlockBound
  to: BlockBound
  /** The argument as given, for `eth_getFilterLogs`. */
  raw: Record<string, unknown>
}


/** The answer a node gives to malformed params, from the filter emulation standing in for it. */
export function invalidParams(problem: string): RpcResponseError {
  return new RpcResponseError({ code: -32602, message: `invalid params: ${problem}` }, { details: 'answered by the filter emulation' })
}

/**
 * Validates an `eth_newFilter` argument up front, as a node does when the filter is installed, so
 * a malformed filter fails at creation instead of at every later poll.
 * @throws `RPC_ERROR` -32602 naming the bad field
 */
export function parseLogCriteria(value: unknown): LogCriteria {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParams('filter must be an object')
  const raw = value as Record<string, unknown>
  if (raw.blockHash !== undefined && raw.blockHash !== null) throw invalidParams('blockHash is not allowed in eth_newFilter (use eth_getLogs)')
  const match: LogCriteria['match'] = {}
  if (raw.address !== undefined && raw.address !== null) match.address = parseAddress(raw.address)
  if (raw.topics !== undefined && raw.topics !== null) match.topics = parseTopics(raw.topics)
  return { match, from: parseBound('fromBlock', raw.fromBlock), to: parseBound('toBlock', raw.toBlock), raw }
}

function parseAddress(value: unknown): string | string[] {
  if (typeof value === 'string') {
    if (!ADDRESS.test(value)) throw invalidParams(`address ${JSON.stringify(value)} is not a 20-byte hex address`)
    return value
  }
  if (!Array.isArray(value)) throw invalidParams('address must be an address or an array of addresses')
  for (const a of value) if (typeof a !== 'string' || !ADDRESS.test(a)) throw invalidParams(`address ${JSON.stringify(a)} is not a 20-byte hex address`)
  return value as string[]
}

function parseTopics(value: unknown): (string | null | (string | null)[])[] {
  if (!Array.isArray(value)) throw invalidParams('topics must be an array')
  if (value.length > 4) throw invalidParams(`topics has ${value.length} positions, at most 4 are allowed`)
  const topic = (t: unknown, i: number): void => {
    if (t !== null && (typeof t !== 'string' || !HASH.test(t))) throw invalidParams(`topics[${i}] ${JSON.stringify(t)} is not a 32-byte hex topic`)
  }
  value.forEach((t, i) => (Array.isArray(t) ? t.forEach((alt) => topic(alt, i)) : topic(t, i)))
  return value as (string | null | (string | null)[])[]
}

/** `latest`/`pending` (and absent) follow the head; `safe`/`finalized` would need their own head and are refused. */
function parseBound(field: string, value: unknown): BlockBound {
  if (value === undefined || value === null || value === 'latest' || value === 'pending') return { kind: 'latest' }
  if (value === 'earliest') return { kind: 'number', block: 0n }
  if (typeof value === 'string' && HEX_QUANTITY.test(value)) return { kind: 'number', block: BigInt(value) }
  if (value === 'safe' || value === 'finalized') throw invalidParams(`${field} '${value}' is not supported by the filter emulation; use a block number`)
  throw invalidParams(`${field} ${JSON.stringify(value)} is not a block number or tag`)
}
