import { createContract, isResilientRpcError, resolveBlock, type Pool } from '../index.js'
import { coerceArgs, loadAbi, pickFunction } from './abi.js'
import { EXIT, UsageError, type Command } from './args.js'
import type { ConfigSources } from './config.js'
import { formatResult, healthRows, healthTable, healthyCount, plain, toJson } from './format.js'
import pTimeout from 'p-timeout'
import { argumentProblem } from '../contract/argumentError.js'
import { BLOCK_TAGS, isBlockTag } from '../contract/blockTag.js'
import { globalTimersOf, systemClock } from '../util/clock.js'
import { HASH, HEX_QUANTITY, isQuantity } from '../util/hex.js'

/** Where a command writes, and what it may read. */
export type CliIo = ConfigSources & {
  stdout(text: string): void
  stderr(text: string): void
  /** Aborted on SIGINT/SIGTERM: requests in flight are cancelled. */
  signal?: AbortSignal
  /** Path of the installed package's docs/cli.md, which the help points to; unknown when not installed. */
  docs?: string
}

/** How long `health` waits for heartbeats when `--timeout` is not given (ms). */
export const HEALTH_WAIT = 5_000
/** Deadline of `call` and `read` when `--timeout` is not given (ms). */
export const REQUEST_TIMEOUT = 10_000

type Health = Extract<Command, { command: 'health' }>
type Call = Extract<Command, { command: 'call' }>
type Read = Extract<Command, { command: 'read' }>

/**
 * Waits until every endpoint has answered a heartbeat or given up (down, quarantined, …), or until
 * `ms` passes: a hanging endpoint costs the whole wait, and is then shown as `connecting`. Woken by
 * `endpoint:state` events, so it answers as soon as the last endpoint settles.
 */
async function settleHealth(pool: Pool, ms: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted()
  const settled = () => pool.stats().endpoints.every((e) => e.status !== 'connecting' && (e.status !== 'up' || e.head !== undefined))
  if (settled()) return
  let checking = false
  let onState = () => {}
  const allSettled = new Promise<void>((resolve) => {
    // Events come from inside the pool's status sync, and stats() syncs: look once that sync is over.
    onState = () => {
      if (checking) return
      checking = true
      queueMicrotask(() => {
        checking = false
        if (settled()) resolve()
      })
    }
  })
  pool.on('endpoint:state', onState)
  try {
    // The end of the wait is no failure: what has not settled by then is shown as it is. The CLI's
    // pool runs on the system clock, and so does this wait.
    await pTimeout(allSettled, { milliseconds: ms, fallback: () => undefined, signal, customTimers: globalTimersOf(systemClock) })
  } finally {
    pool.off('endpoint:state', onState)
  }
}

export async function health(pool: Pool, args: Health, io: CliIo): Promise<number> {
  await settleHealth(pool, args.timeout ?? HEALTH_WAIT, io.signal)
  const stats = pool.stats()
  const rows = healthRows(stats)
  const healthy = healthyCount(rows)
  const ok = healthy >= args.minHealthy
  if (args.json) {
    io.stdout(`${toJson({ ok, healthy, minHealthy: args.minHealthy, chainId: stats.chainId, referenceHead: stats.referenceHead, endpoints: rows })}\n`)
  } else {
    io.stdout(`${healthTable(rows)}\n\n${healthy}/${rows.length} endpoint(s) up; at least ${args.minHealthy} needed: ${ok ? 'ok' : 'NOT ENOUGH'}\n`)
  }
  return ok ? EXIT.OK : EXIT.UNHEALTHY
}

export async function call(pool: Pool, args: Call, io: CliIo): Promise<number> {
  const result = await pool.request(args.method, args.params, { timeout: args.timeout ?? REQUEST_TIMEOUT, signal: io.signal })
  io.stdout(`${args.json ? toJson({ result }) : formatResult(result)}\n`)
  return EXIT.OK
}

/** What `read` checks before it sends anything: a problem here is a usage error, not a failed request. */
export type PreparedRead = { functionName: string; abi: unknown[] }

export async function prepareRead(args: Read, io: CliIo): Promise<PreparedRead> {
  const abi = await loadAbi(args.abi, io.readFile)
  return { abi, functionName: pickFunction(abi, args.fn) }
}

export async function read(pool: Pool, args: Read, prepared: PreparedRead, io: CliIo): Promise<number> {
  // 1. Everything that needs no node: ABI, address, function, arguments, block option.
  let contract
  let fragment
  let values: unknown[] | undefined
  try {
    contract = createContract(pool, args.address, prepared.abi as string[])
    fragment = contract.interface.getFunction(prepared.functionName)
    if (!fragment) throw new UsageError(`the ABI has no function ${JSON.stringify(prepared.functionName)}`)
    values = coerceArgs(fragment.inputs, args.args)
    contract.encode(prepared.functionName, values)
  } catch (error) {
    if (error instanceof UsageError) throw error
    // The library names the argument by its index in an array; here it is the Nth word typed.
    const problem = fragment && values ? argumentProblem(fragment, values) : undefined
    if (problem) {
      const inner = problem.path === '' ? '' : ` at ${problem.path} (${problem.valueType})`
      throw new UsageError(`argument ${problem.index + 1} (${fragment!.inputs[problem.index]!.format('full')})${inner}: ${problem.problem}`)
    }
    if (isResilientRpcError(error)) throw new UsageError(error.message)
    throw new UsageError(`${JSON.stringify(prepared.functionName)} does not name one function of the ABI (overloaded? give the full signature, e.g. "balanceOf(address)")`)
  }
  const blockTag = parseBlock(args.block)

  // 2. One deadline for the block lookup and the call.
  const timeout = args.timeout ?? REQUEST_TIMEOUT
  const started = Date.now()
  const block = await resolveBlock(pool, { confirmations: args.confirmations, blockTag, timeout, signal: io.signal })
  const result = await contract.read(prepared.functionName, values, { blockTag: block as `0x${string}`, timeout: Math.max(1, timeout - (Date.now() - started)), signal: io.signal })
  const at = isQuantity(block) && !HASH.test(block) ? BigInt(block).toString() : block
  if (args.json) io.stdout(`${toJson({ result: plain(result), function: fragment.format(), block: at })}\n`)
  else io.stdout(`${formatResult(plain(result))}\n`)
  return EXIT.OK
}

/** `--block`: a decimal number, or what resolveBlock takes (hex number, hash, tag). */
function parseBlock(text: string | undefined): bigint | `0x${string}` | (typeof BLOCK_TAGS)[number] | undefined {
  if (text === undefined) return undefined
  if (/^\d+$/.test(text)) return BigInt(text)
  if (/^-\d+$/.test(text)) throw new UsageError(`--block: a block number cannot be negative, got ${text}`)
  if (isBlockTag(text)) return text
  if (HEX_QUANTITY.test(text)) return text as `0x${string}`
  throw new UsageError(`--block expects a block number, a block hash or a tag (${BLOCK_TAGS.join(', ')}), got ${JSON.stringify(text)}`)
}
