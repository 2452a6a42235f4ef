import { Fragment, FunctionFragment, type ParamType } from 'ethers'
import { closestName } from '../config/validate.js'
import { UsageError } from './args.js'
import type { ConfigSources } from './config.js'
import { readJsonFile } from './jsonFile.js'

/**
 * The `--abi` value: a signature (`"function value() view returns (uint256)"`, or without the
 * leading `function`; several separated by `;`) or the path of a JSON file holding an ABI array or
 * a build artifact with an `abi` field. A value with a parenthesis is a signature, anything else a path.
 */
export async function loadAbi(spec: string, readFile: ConfigSources['readFile']): Promise<unknown[]> {
  if (spec.includes('(')) {
    const signatures = spec
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '')
    return signatures.map((s, i) => {
      const entry = KEYWORD.test(s) ? s : `function ${s}`
      try {
        Fragment.from(entry)
      } catch (cause) {
        const which = signatures.length === 1 ? 'signature' : `signature ${i + 1}`
        throw new UsageError(`--abi: ${which} ${JSON.stringify(s)} does not parse: ${signatureProblem(s, cause)}; write e.g. "function value() view returns (uint256)"`)
      }
      return entry
    })
  }
  const value = await readJsonFile(spec, 'ABI file', readFile, '; for a signature, write e.g. "function value() view returns (uint256)"')
  if (Array.isArray(value)) return value
  const inner = (value as { abi?: unknown } | null)?.abi
  if (Array.isArray(inner)) return inner
  throw new UsageError(`ABI file ${JSON.stringify(spec)} must hold a JSON array or an object with an "abi" array`)
}

const KEYWORDS = ['function', 'error', 'event', 'constructor', 'fallback', 'receive', 'struct'] as const
const KEYWORD = new RegExp(`^(${KEYWORDS.join('|')})\\b`)

/**
 * What is wrong with a signature ethers refused, in the user's terms: ethers' own words ("bad
 * start", "unexpected tokens at offset 4") describe its tokenizer, not the typo.
 */
function signatureProblem(signature: string, cause: unknown): string {
  const opens = signature.split('(').length - 1
  const closes = signature.split(')').length - 1
  if (opens !== closes) return `unbalanced parentheses (${opens} "(" and ${closes} ")")`
  if (/\)\s*(?:(?:view|pure|payable|nonpayable|external|public)\s*)*\(/.test(signature) && !/\breturns\s*\(/.test(signature)) {
    return 'the output types need "returns" before them'
  }
  if (/\breturns\s+[^\s(]/.test(signature)) return 'the output types after "returns" go in parentheses'
  const words = /^([A-Za-z_$][\w$]*)\s+[A-Za-z_$][\w$]*\s*\(/.exec(signature)
  if (words && !KEYWORD.test(signature)) {
    const meant = closestName(words[1]!, new Set(KEYWORDS))
    return `${JSON.stringify(words[1])} is not a keyword${meant === undefined ? '' : ` (did you mean "${meant}"?)`}: a signature starts with ${KEYWORDS.join(', ')} or the function's name`
  }
  const said = (cause as { shortMessage?: unknown })?.shortMessage ?? (cause instanceof Error ? cause.message : String(cause))
  return String(said).replace(/ \(argument=.*$/, '')
}

/** The function to call: `--fn`, or the ABI's only function when there is just one. */
export function pickFunction(abi: readonly unknown[], fn: string | undefined): string {
  if (fn !== undefined) return fn
  const functions = abi.flatMap((entry) => {
    try {
      const f = Fragment.from(entry as string)
      return f instanceof FunctionFragment ? [f.format()] : []
    } catch {
      // createContract reports the broken entry with its position.
      return []
    }
  })
  if (functions.length === 1) return functions[0]!
  if (functions.length === 0) throw new UsageError('the ABI has no function to read (only events, errors or entries that do not parse)')
  const list = functions.length <= 10 ? `: ${functions.join(', ')}` : ''
  throw new UsageError(`read needs --fn NAME: the ABI has ${functions.length} functions${list}`)
}

/**
 * Turns command-line strings into what ethers encodes for each input: JSON for arrays and tuples,
 * true/false for bool, the string itself for numbers, addresses and bytes (ethers parses those).
 */
export function coerceArgs(inputs: readonly ParamType[], args: readonly string[]): unknown[] {
  if (args.length !== inputs.length) {
    throw new UsageError(`expected ${inputs.length} argument(s) (${inputs.map((p) => p.format('full')).join(', ') || 'none'}), got ${args.length}`)
  }
  return inputs.map((input, i) => coerce(input, args[i]!, i))
}

function coerce(input: ParamType, text: string, index: number): unknown {
  const where = `argument ${index + 1} (${input.format('full')})`
  if (input.baseType === 'array' || input.baseType === 'tuple') {
    try {
      return JSON.parse(text)
    } catch {
      throw new UsageError(`${where} must be JSON, e.g. '["1","2"]'`)
    }
  }
  if (input.baseType === 'bool') {
    if (text === 'true' || text === '1') return true
    if (text === 'false' || text === '0') return false
    throw new UsageError(`${where} must be true or false, got ${JSON.stringify(text)}`)
  }
  return text
}
