import type { EndpointConfig, PoolOptions } from '../index.js'
import { splitUrls, UsageError, type CommonArgs } from './args.js'
import { readJsonFile } from './jsonFile.js'

/** Environment variable with comma-separated endpoint URLs. */
export const ENV_URLS = 'RESILIENT_RPC_URLS'

/** Pool options a config file may set: everything serialisable (no clock, fetch or random). */
const FILE_KEYS = new Set<string>([
  'endpoints',
  'strategy',
  'defaultTimeout',
  'attemptTimeout',
  'retries',
  'backoff',
  'breaker',
  'heartbeat',
  'chainId',
  'maxLag',
  'hedge',
  'dedupe',
  'cache',
  'batch',
  'rateLimitCooldown',
  'maxRetryAfter',
  'unauthorizedCooldown',
])

/**
 * What the CLI changes from the library's defaults: heartbeats every second, so `health` has an
 * answer quickly and a one-shot command finds its endpoints up at once. A config file overrides these.
 */
const CLI_DEFAULTS: Partial<PoolOptions> = { heartbeat: { interval: 1_000, timeout: 1_500 } }

export type ConfigSources = {
  env: Record<string, string | undefined>
  /** Reads a file as UTF-8 text. */
  readFile(path: string): Promise<string>
}

/**
 * Builds the pool options from the command line, the environment and the config file. Endpoints come
 * from the first of `--rpc`, `RESILIENT_RPC_URLS` and the file's `endpoints` that gives any; the chain
 * id from `--chain-id`, else the file; every other option from the file. Never quotes a URL in an error: it may hold an API key.
 * @throws UsageError for a missing or malformed config file, unknown keys, or no endpoints at all
 */
export async function resolveConfig(args: Pick<CommonArgs, 'rpc' | 'config'> & { chainId?: bigint }, sources: ConfigSources): Promise<PoolOptions> {
  const file = args.config === undefined ? {} : await readConfigFile(args.config, sources)
  const fromEnv = splitUrls([sources.env[ENV_URLS] ?? ''])
  let endpoints: readonly EndpointConfig[] | undefined
  if (args.rpc.length > 0) endpoints = args.rpc
  else if (fromEnv.length > 0) endpoints = fromEnv
  else endpoints = file.endpoints
  if (!endpoints || endpoints.length === 0) {
    throw new UsageError(`no endpoints: give --rpc URL,URL,…, set ${ENV_URLS}, or use --config with an "endpoints" list`)
  }
  return { ...CLI_DEFAULTS, ...file, endpoints, ...(args.chainId === undefined ? {} : { chainId: args.chainId }) }
}

async function readConfigFile(path: string, sources: ConfigSources): Promise<Partial<PoolOptions>> {
  const value = await readJsonFile(path, 'config file', sources.readFile)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`config file ${JSON.stringify(path)} must hold a JSON object with "endpoints" and pool options`)
  }
  const unknown = Object.keys(value).filter((k) => !FILE_KEYS.has(k))
  if (unknown.length > 0) {
    throw new UsageError(`config file ${JSON.stringify(path)}: unknown option ${JSON.stringify(unknown[0])} (allowed: ${[...FILE_KEYS].join(', ')})`)
  }
  const endpoints = (value as { endpoints?: unknown }).endpoints
  if (endpoints !== undefined && !Array.isArray(endpoints)) {
    throw new UsageError(`config file ${JSON.stringify(path)}: "endpoints" must be an array of URLs or endpoint objects`)
  }
  return value as Partial<PoolOptions>
}
