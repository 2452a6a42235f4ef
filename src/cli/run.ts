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
  --chain-id ID          the chain the endpoints must serve (decimal or 0x hex); without it the
                         pool adopts the chain its endpoints report (see Docs, below)
  --json                 machine-readable output on stdout (errors too)
  --timeout MS           health: how long to wait for heartbeats (default 5000);
                         call/read: deadline across retries (default 10000)
  --min-healthy N        health: endpoints that must be up (default 1)
  --confirmations N      read: at head − N
  -h, --help             this text;  -v, --version

Exit codes: 0 ok · 1 request failed · 2 usage or config error · 3 fewer than --min-healthy up · 130 interrupted
Endpoints are shown by their redacted id (scheme://host:port#index); keys in URLs and headers never are.`

/** The help's pointer to the CLI's documentation: the installed file when the bin knows where it is. */
const docsLine = (path: string | undefined): string => `Docs: ${path ?? 'docs/cli.md in the resilient-rpc package'}`

/** `resilient-rpc help COMMAND` (or `COMMAND --help`): what one command does, its options, examples. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  health: `resilient-rpc health [--min-healthy N] [--timeout MS] [--json]

Waits up to --timeout ms (default 5000) for every endpoint's heartbeat, then prints one row per
endpoint: redacted id, chain id, head, lag behind the pool's reference head, latency, state.
Exits 3 when fewer than --min-healthy (default 1) endpoints are up.

Examples:
  resilient-rpc health --rpc "$RPC_A,$RPC_B" --min-healthy 2
  RESILIENT_RPC_URLS="$RPC_A,$RPC_B" resilient-rpc health --json`,
  call: `resilient-rpc call METHOD [PARAMS-JSON] [--timeout MS] [--json]

Sends one JSON-RPC request through the pool (balanced, retried with failover within --timeout,
default 10000 ms) and prints its result. PARAMS-JSON is a JSON array. A node's error exits 1.

Examples:
  resilient-rpc call eth_blockNumber
  resilient-rpc call eth_getBalance '["0x0000000000000000000000000000000000000001","latest"]' --json`,
  read: `resilient-rpc read --address ADDR --abi FILE|SIGNATURE [--fn NAME] [ARGS…]
                   [--confirmations N | --block NUMBER|TAG|HASH] [--timeout MS] [--json]

Calls a view function and prints the decoded result. --abi is a human-readable signature
("balanceOf(address) view returns (uint256)") or a JSON ABI / build artifact file; --fn picks the
function when the ABI has several. Arguments are checked against the ABI before anything is sent.
--confirmations N reads at head − N; --block pins a block. A revert is decoded and exits 1.

Examples:
  resilient-rpc read --address 0x… --abi "totalSupply() view returns (uint256)" --confirmations 12
  resilient-rpc read --address 0x… --abi ./Token.json --fn balanceOf 0xabc… --json`,
}

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
    const topic = command.topic === undefined ? undefined : COMMAND_HELP[command.topic]
    io.stdout(`${topic ?? `${HELP}\n${docsLine(io.docs)}`}\n`)
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
