import { AbiCoder, type FunctionFragment, type ParamType } from 'ethers'
import { InvalidOptionError } from '../errors/invalidOption.js'

/**
 * Which argument of a call does not encode, and why. ethers' own error names neither reliably: its
 * `argument` is the parameter name at best (often an internal "value", "tuple" or "str"), never the
 * position, and `value` may be a part of the argument. So each argument is encoded alone, in order,
 * with ethers' coder: the first that throws is at fault, and inside an array or a tuple the first
 * element or component that throws. Nothing is validated here; ethers' verdict is only worded.
 */
export type ArgumentProblem = {
  /** Position in `args`. */
  index: number
  /** The parameter's name in the ABI (`''` when unnamed). */
  name: string
  /** The parameter's type, e.g. `uint256`, `(uint256,string)[2]`. */
  type: string
  /** Where inside the argument the fault is: `''` for the argument itself, else e.g. `[1]`, `.amount`, `[0].to`. */
  path: string
  /** Type of the faulty value (the argument's own type when `path` is empty). */
  valueType: string
  /** What is wrong with the value, as a predicate: `"x" is not a number`, `256 is out of range for uint8 (0 to 255)`. */
  problem: string
}

/**
 * The `INVALID_OPTION` for arguments ethers could not encode: the count, else the argument at fault
 * (`option` is its path, e.g. `args[0]`, `args[1].amount`), its type and what is wrong with its value.
 */
export function argumentError(f: FunctionFragment, args: readonly unknown[], cause: unknown): InvalidOptionError {
  const signature = f.format('sighash')
  const count = argumentCountProblem(f, args)
  if (count !== undefined) return new InvalidOptionError('args', `${signature} ${count}`, { cause })
  const p = argumentProblem(f, args)
  if (p === undefined) return new InvalidOptionError('args', `cannot encode arguments for ${signature}`, { cause })
  const inner = p.path === '' ? '' : `, at ${p.path} (${typeName(p.valueType)})`
  return new InvalidOptionError(`args[${p.index}]${p.path}`, `cannot encode argument ${p.index}${p.name === '' ? '' : ` \`${p.name}\``} (${typeName(p.type)}) of ${signature}${inner}: ${p.problem}`, { cause })
}

/** A tuple's type reads `tuple(uint256,string)` in a message, not `(uint256,string)` in parentheses. */
function typeName(type: string): string {
  return type.startsWith('(') ? `tuple${type}` : type
}

/** The problem with `args` for `f`, `undefined` when every argument encodes (the fault is elsewhere). Never throws. */
export function argumentProblem(f: FunctionFragment, args: readonly unknown[]): ArgumentProblem | undefined {
  for (const [index, input] of f.inputs.entries()) {
    const error = encodeError(input, args[index])
    if (error === undefined) continue
    const fault = locate(input, args[index], error, '')
    return { index, name: input.name, type: input.format('sighash'), path: fault.path, valueType: fault.param.format('sighash'), problem: fault.problem }
  }
  return undefined
}

/** "takes 2 arguments (uint256 id, address to), got 1": `undefined` when the count is right. */
export function argumentCountProblem(f: FunctionFragment, args: readonly unknown[]): string | undefined {
  if (args.length === f.inputs.length) return undefined
  const n = f.inputs.length
  const list = n === 0 ? '' : ` (${f.inputs.map((p) => p.format('full')).join(', ')})`
  return `takes ${n} argument${n === 1 ? '' : 's'}${list}, got ${args.length}`
}

type Fault = { param: ParamType; path: string; problem: string }

function encodeError(param: ParamType, value: unknown): unknown {
  try {
    // Asked for here, not at load: a call at the top of the module would keep ethers in every bundle of the pool.
    AbiCoder.defaultAbiCoder().encode([param], [value])
    return undefined
  } catch (error) {
    return error ?? new Error('encoding failed')
  }
}

/** Descends into arrays and tuples to the first element or component that does not encode. */
function locate(param: ParamType, value: unknown, error: unknown, path: string): Fault {
  if (param.isArray()) {
    if (!Array.isArray(value)) return { param, path, problem: `${shown(value)} is not an array` }
    if (param.arrayLength >= 0 && value.length !== param.arrayLength) return { param, path, problem: `has ${value.length} element${value.length === 1 ? '' : 's'}, ${typeName(param.format('sighash'))} needs ${param.arrayLength}` }
    for (const [i, item] of value.entries()) {
      const inner = encodeError(param.arrayChildren, item)
      if (inner !== undefined) return locate(param.arrayChildren, item, inner, `${path}[${i}]`)
    }
  } else if (param.isTuple()) {
    const components = param.components
    const byName = value !== null && typeof value === 'object' && !Array.isArray(value)
    if (!byName && !Array.isArray(value)) return { param, path, problem: `${shown(value)} is not a tuple (give an array, or an object by component name)` }
    if (!byName && (value as unknown[]).length !== components.length) return { param, path, problem: `has ${(value as unknown[]).length} component${(value as unknown[]).length === 1 ? '' : 's'}, ${typeName(param.format('sighash'))} needs ${components.length}` }
    for (const [i, component] of components.entries()) {
      const item = byName ? (value as Record<string, unknown>)[component.name] : (value as unknown[])[i]
      const inner = encodeError(component, item)
      if (inner !== undefined) return locate(component, item, inner, byName && component.name !== '' ? `${path}.${component.name}` : `${path}[${i}]`)
    }
  }
  return { param, path, problem: leafProblem(param, value, error) }
}

/** ethers' verdict on one value of a basic type, in words that say what to change. */
function leafProblem(param: ParamType, value: unknown, error: unknown): string {
  const said = ((error as { shortMessage?: unknown })?.shortMessage ?? (error as Error)?.message ?? '') as string
  const type = param.format('sighash')
  if (value === undefined) return 'is missing'
  const integer = /^(u?)int(\d*)$/.exec(param.baseType)
  if (integer) {
    if (said === 'value out-of-bounds') return `${shown(value)} is out of range for ${type} (${range(integer[1] === 'u', Number(integer[2] || 256))})`
    if (said === 'underflow') return `${shown(value)} is not an integer`
    if (said === 'overflow') return `${shown(value)} is past Number.MAX_SAFE_INTEGER and has lost precision: give a bigint or a decimal string`
    return `${shown(value)} is not a number`
  }
  if (param.baseType === 'address') {
    if (said.startsWith('bad address checksum')) return `${shown(value)} has a bad checksum (mixed case that is not EIP-55: check the address, or write it in lower case)`
    return `${shown(value)} is not an address (0x and 40 hex digits; ENS names are not resolved)`
  }
  const fixed = /^bytes(\d+)$/.exec(param.baseType)
  if (fixed && said === 'incorrect data length' && typeof value === 'string') {
    return `${shown(value)} has ${(value.length - 2) / 2} bytes, ${type} needs ${fixed[1]}`
  }
  if (param.baseType === 'bytes' || fixed) return `${shown(value)} is not hex data (0x and an even number of hex digits)`
  if (param.baseType === 'string') return `${shown(value)} is not a string`
  return `${shown(value)}: ${said.replace(/ \(argument=.*$/, '')}`
}

function range(unsigned: boolean, bits: number): string {
  if (unsigned) return bits <= 64 ? `0 to ${(1n << BigInt(bits)) - 1n}` : `0 to 2^${bits}-1`
  return bits <= 64 ? `${-(1n << BigInt(bits - 1))} to ${(1n << BigInt(bits - 1)) - 1n}` : `-2^${bits - 1} to 2^${bits - 1}-1`
}

/** A value as it appears in a message: JSON-like, bigints as digits, long ones cut. */
function shown(value: unknown): string {
  let text: string
  try {
    text = typeof value === 'bigint' ? String(value) : JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value)
  } catch {
    text = Object.prototype.toString.call(value)
  }
  return text.length > 90 ? `${text.slice(0, 87)}...` : text
}
