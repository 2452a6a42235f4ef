import { UsageError } from './args.js'

/**
 * Reads and parses a JSON file the command line named (`what`: "config file", "ABI file").
 * Never quotes the file's text: a config file holds URLs with keys and headers with tokens.
 * @throws UsageError naming the file: unreadable (with the system's code), or not JSON (with where it broke)
 */
export async function readJsonFile(path: string, what: string, readFile: (path: string) => Promise<string>, hint = ''): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path)
  } catch (error) {
    const code = (error as { code?: string }).code
    throw new UsageError(`cannot read ${what} ${JSON.stringify(path)}${code ? ` (${code})` : ''}${hint}`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} ${JSON.stringify(path)} is not valid JSON${where(text, (error as Error).message)}`)
  }
}

/**
 * Where JSON.parse stopped, as line and column, when its message says. Never its message itself:
 * V8 quotes the text around the error (`Unexpected token 'k', "…apikey": k3y…" is not valid JSON`).
 */
function where(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message)?.[1]
  if (position === undefined) return ''
  const before = text.slice(0, Number(position)).split('\n')
  return ` (line ${before.length}, column ${before.at(-1)!.length + 1})`
}
