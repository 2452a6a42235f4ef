import { parseArgs } from 'node:util'
import { bigInteger, duration, integer } from '../config/validate.js'
import { isResilientRpcError } from '../errors/guard.js'

/** The CLI's exit codes (documented in docs/cli.md). */
export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** The request failed: timeout, no endpoint, node error, revert, retries exhausted. */
  FAILED: 1,
  /** Bad arguments, config file or options; nothing was sent. */
  USAGE: 2,
  /** `health`: fewer endpoints up than `--min-healthy`. */
  UNHEALTHY: 3,
  /** Interrupted by SIGINT or SIGTERM. */
  INTERRUPTED: 130,
} as const

/** Options every command takes. */
export type CommonArgs = {
  /** Endpoint URLs from `--rpc` (comma-separated, repeatable); empty when not given. */
  rpc: string[]
  config: string | undefined
  /** The chain the endpoints must serve (`--chain-id`); without it the pool adopts the endpoints' own. */
  chainId: bigint | undefined
  json: boolean
  /** Deadline of the command (ms). */
  timeout: number | undefined
}

export type Command =
  | { command: 'help'; topic?: string }
  | { command: 'version' }
  | (CommonArgs & { command: 'health'; minHealthy: number })
  | (CommonArgs & { command: 'call'; method: string; params: unknown[] })
  | (CommonArgs & {
      command: 'read'
      address: string
      abi: string
      fn: string | undefined
      args: string[]
      confirmations: number | undefined
      block: string | undefined
    })

/** A mistake in how the CLI was called; exits with `EXIT.USAGE` and a hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

const COMMANDS = ['health', 'call', 'read'] as const
const OPTIONS = {
  rpc: { type: 'string', multiple: true },
  config: { type: 'string', short: 'c' },
  'chain-id': { type: 'string' },
  json: { type: 'boolean', default: false },
  timeout: { type: 'string', short: 't' },
  'min-healthy': { type: 'string' },
  address: { type: 'string', short: 'a' },
  abi: { type: 'string' },
  fn: { type: 'string', short: 'f' },
  confirmations: { type: 'string' },
  block: { type: 'string', short: 'b' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const

/** Which command takes which options (besides the common ones). */
const OWN_OPTIONS: Record<(typeof COMMANDS)[number], readonly string[]> = {
  health: ['min-healthy'],
  call: [],
  read: ['address', 'abi', 'fn', 'confirmations', 'block'],
}

/**
 * Parses the command line (without `node` and the script). Pure: reads no files and no environment.
 * @throws UsageError naming the first problem
 */
export function parseCliArgs(argv: readonly string[]): Command {
  let parsed
  try {
    // Inside the try: parseArgs's refusals and ours alike become usage errors.
    parsed = parseArgs({ args: normaliseArgv(argv), options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  const [name, ...rest] = positionals
  if (values.version) return { command: 'version' }
  if (values.help || name === 'help') return name === 'help' ? { command: 'help', topic: rest[0] } : { command: 'help', topic: name }
  if (name === undefined) throw new UsageError('missing command: health, call or read')
  if (!(COMMANDS as readonly string[]).includes(name)) throw new UsageError(`unknown command ${JSON.stringify(name)}: expected health, call or read`)
  const command = name as (typeof COMMANDS)[number]
  for (const option of Object.values(OWN_OPTIONS).flat()) {
    if (values[option as keyof typeof values] !== undefined && !OWN_OPTIONS[command].includes(option)) {
      throw new UsageError(`--${option} does not apply to ${command}`)
    }
  }

  const common: CommonArgs = {
    rpc: splitUrls(values.rpc ?? []),
    config: values.config,
    chainId: values['chain-id'] === undefined ? undefined : checked(() => bigInteger('--chain-id', chainNumber(values['chain-id']!), false)),
    json: values.json,
    timeout: values.timeout === undefined ? undefined : checked(() => duration('--timeout', milliseconds(values.timeout!), 0)),
  }

  switch (command) {
    case 'health': {
      if (rest.length > 0) throw new UsageError(`health takes no arguments, got ${JSON.stringify(rest[0])}`)
      const minHealthy = checked(() => integer('--min-healthy', number(values['min-healthy']), 1))
      return { ...common, command, minHealthy }
    }
    case 'call': {
      const [method, paramsJson, ...extra] = rest
      if (!method) throw new UsageError('call needs a METHOD, e.g. `call eth_blockNumber`')
      if (extra.length > 0) throw new UsageError('call takes METHOD and one PARAMS-JSON array; quote the JSON')
      return { ...common, command, method, params: parseParams(paramsJson) }
    }
    case 'read': {
      if (!values.address) throw new UsageError('read needs --address')
      if (!values.abi) throw new UsageError('read needs --abi (a JSON ABI file or a signature like "function value() view returns (uint256)")')
      if (values.confirmations !== undefined && values.block !== undefined) throw new UsageError('give --confirmations or --block, not both')
      return {
        ...common,
        command,
        address: values.address,
        abi: values.abi,
        fn: values.fn,
        args: rest,
        confirmations: values.confirmations === undefined ? undefined : checked(() => integer('--confirmations', number(values.confirmations!), 0)),
        block: values.block,
      }
    }
  }
}

/** `--rpc a,b --rpc c` → [a, b, c]; blanks dropped. */
export function splitUrls(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((u) => u.trim()).filter((u) => u !== '')
}

// Every option that takes a value, by each of its names: its value is the next word whatever it
// looks like ("--timeout -5", "--block -1"), so that our checks see it and say what is wrong with it.
const VALUED: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(OPTIONS).flatMap(([name, o]) => (o.type === 'string' ? [[`--${name}`, name], ...('short' in o ? [[`-${o.short}`, name]] : [])] : [])),
)
const NEGATIVE_NUMBER = /^-\.?\d/

/**
 * Puts the command line the way parseArgs reads it without guessing: each valued option joined to
 * its value (`--timeout=-5`), then `--`, then the positionals in order — a negative number among
 * them (`read … -5` for an int256) is an argument, not an option. Nothing after `--` is touched.
 * @throws UsageError for a valued option with no value
 */
function normaliseArgv(argv: readonly string[]): string[] {
  const options: string[] = []
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    const valued = VALUED[arg]
    if (valued !== undefined) {
      const next = argv[i + 1]
      if (next === undefined || next === '--' || VALUED[next] !== undefined || isFlag(next)) throw new UsageError(`--${valued} needs a value`)
      options.push(`--${valued}=${next}`)
      i++
    } else if (arg.startsWith('-') && arg !== '-' && !NEGATIVE_NUMBER.test(arg)) options.push(arg)
    else positionals.push(arg)
  }
  return [...options, '--', ...positionals]
}

/** A boolean option by one of its names (`--json`, `-h`). */
function isFlag(arg: string): boolean {
  return Object.entries(OPTIONS).some(([name, o]) => o.type === 'boolean' && (arg === `--${name}` || ('short' in o && arg === `-${o.short}`)))
}

/**
 * A decimal as its number; anything else stays the text, passed on as it is (typed as a number) so
 * that the check's message quotes what was typed.
 */
function number(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  return /^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : (text as unknown as number)
}

/** A chain id as typed: decimal or `0x` hex; anything else stays the text, for the check to quote. */
function chainNumber(text: string): bigint | number {
  const trimmed = text.trim()
  return /^(\d+|0x[0-9a-fA-F]+)$/.test(trimmed) ? BigInt(trimmed) : (text as unknown as number)
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000 }

/** `--timeout`: milliseconds; a value with a unit ("5s") is refused with what to write instead. */
function milliseconds(text: string): number {
  const unit = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)\s*$/i.exec(text)
  if (unit) throw new UsageError(`--timeout takes milliseconds without a unit: for ${text.trim()}, write ${Number(unit[1]) * UNITS[unit[2]!.toLowerCase()]!}`)
  return number(text)!
}

/** An option check of the library (config/validate.ts), its error a usage error. */
function checked<T>(check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (isResilientRpcError(error, 'INVALID_OPTION')) throw new UsageError(error.message)
    throw error
  }
}

function parseParams(json: string | undefined): unknown[] {
  if (json === undefined) return []
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch (error) {
    throw new UsageError(`PARAMS must be a JSON array, e.g. '["latest", false]': ${(error as Error).message}`)
  }
  if (!Array.isArray(value)) throw new UsageError(`PARAMS must be a JSON array, e.g. '["latest", false]', got ${typeof value}`)
  return value
}
