import { parseArgs } from 'node:util'

export type DemoOptions = {
  /** Length of the storm (ms); setup and the final drain come on top. */
  durationMs: number
  /** Plain line output even on a terminal. */
  plain: boolean
  /** A block is mined this often (ms), besides one per transaction. */
  blockMs: number
  help: boolean
}

export const DEFAULT_DURATION_S = 40
export const FAST_DURATION_S = 15

export const USAGE = `Usage: npm run demo [-- options]

Starts a local anvil behind three fault proxies, runs a steady workload through one pool and
injects a scripted storm (a hanging endpoint, a rate-limited one, a lagging one, a full outage,
then recovery). Exits 0 only if every request it started settled.

Options:
  --duration SECONDS   length of the storm (default ${DEFAULT_DURATION_S}, at least 5)
  --fast               a short storm (${FAST_DURATION_S} s), e.g. for tests
  --plain              one line per second instead of the live view (the default when stdout is not a terminal)
  -h, --help           this text`

export class UsageError extends Error {}

export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string' },
        fast: { type: 'boolean', default: false },
        plain: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.duration !== undefined && values.fast) throw new UsageError('give --duration or --fast, not both')
  const seconds = values.duration === undefined ? (values.fast ? FAST_DURATION_S : DEFAULT_DURATION_S) : Number(values.duration)
  if (!Number.isFinite(seconds) || seconds < 5 || seconds > 600) throw new UsageError(`--duration expects seconds between 5 and 600, got ${JSON.stringify(values.duration)}`)
  return {
    durationMs: Math.round(seconds * 1000),
    plain: values.plain,
    // Short storms need heads to move faster for the lagging endpoint to be noticed in its phase.
    blockMs: seconds < 30 ? 250 : 400,
    help: values.help,
  }
}
