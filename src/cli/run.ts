import { createPool, isResilientRpcError, type Pool } from '../index.js'
import { EXIT, parseCliArgs, UsageError, type Command } from './args.js'
import { call, health, prepareRead, read, type CliIo, type PreparedRead } from './commands.js'
import { ENV_URLS, resolveConfig } from './config.js'
import { describeError, toJson } from './format.js'
import { version } from '../../package.json'

export const HELP = `resilient-rpc ${version}: JSON-RPC through a resilient pool of endpoints

Usage:
  resilient-rpc health [--min-healthy N] [--timeout MS]
  resilient-rpc call METHOD [PARAMS-JSON] [--timeout MS]
  resilient-rpc read --address ADDR --abi FILE|SIGNATURE [--fn NAME] [ARGS…]
                     [--confirmations N | --block NUMBER|TAG|HASH] [--timeout MS]

Endpoints (the first that gives any):
  --rpc URL[,URL…]       repeatable
  ${ENV_URLS}     comma-separated URLs
  --config FILE          JSON: {"endpoints": [...], ...pool options}

Options:
  --json                 machine-readable output on stdout (errors too)
  --timeout MS           health: how long to wait for heartbeats (default 5000);
                         call/read: deadline across retries (default 10000)
  --min-healthy N        health: endpoints that must be up (default 1)
  --confirmations N      read: at head − N
  -h, --help             this text;  -v, --version

Exit codes: 0 ok · 1 request failed · 2 usage or config error · 3 fewer than --min-healthy up · 130 interrupted
Endpoints are shown by their redacted id (scheme://host:port#index); keys in URLs and headers never are.
Docs: docs/cli.md`

/**
 * Runs one CLI command and resolves with its exit code. Never throws, never exits the process, and
 * destroys the pool it creates, so it can be called from tests as it is from bin.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json')
  const fail = (exit: number, code: string, message: string): number => {
    if (json) io.stdout(`${toJson({ error: { code, message, exit } })}\n`)
    else io.stderr(`resilient-rpc: ${message}${exit === EXIT.USAGE && code === 'USAGE' ? `\nRun 'resilient-rpc --help' for usage.` : ''}\n`)
    return exit
  }

  let command: Command
  try {
    command = parseCliArgs(argv)
  } catch (error) {
    return fail(EXIT.USAGE, 'USAGE', (error as Error).message)
  }
  if (command.command === 'help') {
    io.stdout(`${HELP}\n`)
    return EXIT.OK
  }
  if (command.command === 'version') {
    io.stdout(`${version}\n`)
    return EXIT.OK
  }

  let pool: Pool | undefined
  try {
    const options = await resolveConfig(command, io)
    const prepared: PreparedRead | undefined = command.command === 'read' ? await prepareRead(command, io) : undefined
    try {
      pool = createPool(options)
    } catch (error) {
      // The library's option errors never quote a URL; they name the option (endpoints[1].url, …).
      throw new UsageError(`invalid configuration: ${describeError(error).message}`)
    }
    if (command.command === 'health') return await health(pool, command, io)
    if (command.command === 'call') return await call(pool, command, io)
    return await read(pool, command, prepared!, io)
  } catch (error) {
    if (error instanceof UsageError) return fail(EXIT.USAGE, 'USAGE', error.message)
    if (io.signal?.aborted) return fail(EXIT.INTERRUPTED, 'ABORTED', 'interrupted')
    const { code, message } = describeError(error)
    if (isResilientRpcError(error, 'INVALID_OPTION')) return fail(EXIT.USAGE, code, message)
    return fail(EXIT.FAILED, code, message)
  } finally {
    await pool?.destroy()
  }
}
