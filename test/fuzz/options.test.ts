import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createContract, createPool, isResilientRpcError, watchEvents, type Pool } from '../../src/index.js'
import { createFakeFetch } from '../support/fakeFetch.js'

// Arbitrary option objects (plausible keys, any values) either build the thing or throw our typed
// INVALID_OPTION (INVALID_ABI for an ABI): never a TypeError, a RangeError or a third-party error.

/** Values a confused caller might pass: edge numbers, wrong types, and anything at all. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, 0, -1, 1, 1.5, 100, 2 ** 31, 2 ** 53, NaN, Infinity, -Infinity, true, false, '', '1', 'abc', [], {}),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 10 }),
  // Objects without a prototype, symbols and bigints too: error messages quote the bad value, and
  // quoting must never throw (src/util/show.ts).
  fc.anything({ maxDepth: 2, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBigInt: true }),
  fc.bigInt(),
  fc.constant(Symbol('s')),
  fc.constant(() => 1),
)

function record(keys: readonly string[], extra?: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(keys.map((k) => [k, extra?.[k] ?? value])), { requiredKeys: [] })
}

/** Either a value or an object with these keys. */
const nested = (keys: readonly string[], extra?: Record<string, fc.Arbitrary<unknown>>) => fc.oneof(value, record(keys, extra))

const urlArb = fc.oneof(
  fc.constantFrom('http://127.0.0.1:1', 'https://a.test/v3/KEY', 'ws://127.0.0.1:1', 'wss://a.test', 'http://user:pass@a.test/', 'ftp://a.test', 'http://', '', 'not a url', 'http://[::1]:1', 'HTTP://A.TEST'),
  fc.webUrl(),
  value,
)
const endpointArb = fc.oneof(
  urlArb,
  record(['url', 'name', 'weight', 'tier', 'headers', 'maxConcurrency', 'rateLimit'], {
    url: urlArb,
    tier: fc.oneof(fc.constantFrom('primary', 'backup'), value),
    headers: fc.oneof(value, fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 })),
    rateLimit: nested(['perSecond', 'burst']),
  }),
)

const poolOptionsArb = fc.oneof(
  { weight: 1, arbitrary: value },
  {
    weight: 9,
    arbitrary: record(
      ['endpoints', 'strategy', 'defaultTimeout', 'attemptTimeout', 'retries', 'backoff', 'breaker', 'heartbeat', 'chainId', 'maxLag', 'hedge', 'dedupe', 'cache', 'batch', 'webSocket', 'maxQueue', 'retryBudget', 'rateLimitCooldown', 'maxRetryAfter', 'unauthorizedCooldown', 'clock', 'random', 'fetch', 'tracer', 'logger', 'logRateLimit', 'maxResponseBytes', 'maxSockets'],
      {
        endpoints: fc.oneof({ weight: 1, arbitrary: value }, { weight: 6, arbitrary: fc.array(endpointArb, { maxLength: 3 }) }),
        chainId: fc.oneof(fc.constantFrom(0n, 1n, -1n, 2n ** 70n), value),
        maxLag: fc.oneof(fc.constantFrom(0n, 5n, -1n), value),
        strategy: fc.oneof(fc.constantFrom('least-connections', 'weighted-round-robin'), value),
        backoff: nested(['initial', 'max', 'factor', 'jitter']),
        breaker: nested(['errorThresholdPercentage', 'volumeThreshold', 'rollingWindow', 'resetTimeout']),
        heartbeat: nested(['interval', 'timeout', 'failuresToDown', 'jitter', 'unref']),
        hedge: nested(['delay', 'minDelay', 'initialDelay', 'budget']),
        cache: nested(['finalityDepth', 'maxEntries']),
        batch: nested(['maxSize', 'wait']),
        webSocket: nested(['keepalive', 'reconnect', 'connectTimeout', 'protocols', 'WebSocket'], {
          keepalive: nested(['interval', 'timeout', 'mode', 'method']),
          reconnect: nested(['initial', 'max', 'factor', 'jitter', 'stableAfter', 'maxAttempts', 'giveUp']),
        }),
        retryBudget: nested(['ratio', 'minPerSecond', 'window']),
        clock: nested(['now', 'setTimeout', 'clearTimeout']),
        logger: nested(['debug', 'info', 'warn', 'error']),
        logRateLimit: nested(['max', 'interval']),
      },
    ),
  },
)

/** Calls `build`; a throw must be one of ours with one of `codes`. Returns what was built, if anything. */
function typedOrBuilt<T>(build: () => T, codes: readonly string[] = ['INVALID_OPTION']): T | undefined {
  try {
    return build()
  } catch (error) {
    expect(isResilientRpcError(error), `not a ResilientRpcError: ${String(error)}\n${(error as Error)?.stack ?? ''}`).toBe(true)
    expect(codes).toContain((error as { code: string }).code)
    // Quoting the bad value in JSON must not throw either (bigints, symbols, cycles in it).
    expect(() => JSON.stringify(error)).not.toThrow()
    return undefined
  }
}

const fake = createFakeFetch()

function workingPool(): Pool {
  fake.set('e0.test', { kind: 'ok', result: '0x10' })
  return createPool({ endpoints: ['http://e0.test'], heartbeat: false, fetch: fake.fetch })
}

beforeEach(() => void vi.useFakeTimers())
afterEach(() => {
  const timers = vi.getTimerCount()
  vi.useRealTimers()
  expect(timers).toBe(0)
})

describe('fuzzed options', () => {
  it('createPool: builds a pool (then destroyed) or throws INVALID_OPTION', async () => {
    await fc.assert(
      fc.asyncProperty(poolOptionsArb, async (options) => {
        // Without an injected fetch the pool would open real sockets: keep it in-process.
        const withFetch = typeof options === 'object' && options !== null && !('fetch' in options) ? { ...options, fetch: fake.fetch } : options
        const pool = typedOrBuilt(() => createPool(withFetch as never))
        await pool?.destroy()
      }),
      { numRuns: 200 },
    )
  })

  it('pool.request: any method, params and options settle as a result or a ResilientRpcError', async () => {
    const requestOptions = fc.oneof(value, record(['signal', 'timeout', 'attemptTimeout', 'retries', 'quorum']))
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom('eth_blockNumber', 'eth_call', 'eth_getLogs', 'eth_sendRawTransaction'), value), fc.oneof(fc.array(value, { maxLength: 3 }), value), requestOptions, async (method, params, options) => {
        const pool = workingPool()
        try {
          let outcome: { error?: unknown } | undefined
          // A synchronous throw is as wrong as a non-typed rejection.
          const settled = typedOrBuilt(() => pool.request(method as string, params as unknown[], options as never))
          void settled?.then(
            () => (outcome = {}),
            (error: unknown) => (outcome = { error }),
          )
          await vi.advanceTimersByTimeAsync(31_000)
          if (settled === undefined) return
          expect(outcome).toBeDefined()
          if (outcome!.error !== undefined) expect(isResilientRpcError(outcome!.error), `not a ResilientRpcError: ${String(outcome!.error)}`).toBe(true)
        } finally {
          await pool.destroy()
        }
      }),
      { numRuns: 150 },
    )
  })

  it('createContract: any ABI and address builds a contract or throws INVALID_ABI / INVALID_OPTION', async () => {
    const fragment = fc.oneof(
      fc.constantFrom('function value() view returns (uint256)', 'event Transfer(address indexed from, address indexed to, uint256 value)', 'function f(uint256', 'error E(string)', 'constructor()', 'junk'),
      fc.string({ maxLength: 30 }),
      record(['type', 'name', 'inputs', 'outputs', 'stateMutability'], {
        type: fc.oneof(fc.constantFrom('function', 'event', 'error', 'constructor', 'fallback'), value),
        inputs: fc.oneof(value, fc.array(record(['type', 'name', 'indexed', 'components'], { type: fc.oneof(fc.constantFrom('uint256', 'address', 'tuple', 'bytes32[]', 'uint7'), value) }), { maxLength: 2 })),
      }),
      value,
    )
    const abi = fc.oneof(fc.array(fragment, { maxLength: 4 }), fc.array(fragment, { maxLength: 3 }).map((a) => JSON.stringify(a, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))), value)
    const address = fc.oneof(fc.constantFrom('0x0000000000000000000000000000000000000001', '0xABCDEF0000000000000000000000000000000001', '0x12'), value)
    const pool = workingPool()
    try {
      await fc.assert(
        fc.asyncProperty(abi, address, fc.oneof(fc.constantFrom('value', 'f', 'value()'), value), fc.oneof(fc.array(value, { maxLength: 2 }), value), async (a, addr, fn, args) => {
          const contract = typedOrBuilt(() => createContract(pool, addr as string, a as never), ['INVALID_ABI', 'INVALID_OPTION'])
          if (contract === undefined) return
          typedOrBuilt(() => contract.encode(fn as string, args as unknown[]))
        }),
        { numRuns: 200 },
      )
    } finally {
      await pool.destroy()
    }
  })

  it('contract arguments: any values encode, or the error names the argument and what is wrong with it', () => {
    const type = fc.constantFrom('uint8', 'int16', 'uint256', 'address', 'bytes32', 'bytes', 'string', 'bool', 'uint256[2]', 'uint8[]', '(uint256 a, address b)', '(uint64, bool)[]', 'bytes4[2][]')
    const argument = fc.oneof(value, fc.bigInt(), fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.bigInt(), value), { maxLength: 3 }), fc.record({ a: value, b: value }, { requiredKeys: [] }))
    fc.assert(
      fc.property(fc.array(type, { maxLength: 3 }), fc.array(argument, { maxLength: 4 }), (types, args) => {
        const contract = createContract({} as Pool, '0x0000000000000000000000000000000000000001', [`function f(${types.map((t, i) => `${t} p${i}`).join(', ')})`])
        const error = (() => {
          try {
            contract.encode('f', args)
            return undefined
          } catch (e) {
            return e
          }
        })()
        if (error === undefined) return
        expect(isResilientRpcError(error, 'INVALID_OPTION'), `not INVALID_OPTION: ${String(error)}`).toBe(true)
        expect((error as { option: string }).option).toMatch(/^args(\[\d+\]|\.\w+)*$/)
        // Never the fallback that names no argument: one of them is always at fault.
        expect((error as Error).message).toMatch(/: f\(.*\) takes \d+ arguments?|: cannot encode argument \d+ /)
        expect(() => JSON.stringify(error)).not.toThrow()
      }),
      { numRuns: 400 },
    )
  })

  it('watchEvents and pool.subscribe: any options start (then stop) or throw a typed error', async () => {
    const watchOptions = fc.oneof(
      value,
      record(['address', 'abi', 'eventName', 'topics', 'fromBlock', 'confirmations', 'signal', 'onCheckpoint', 'onError', 'range', 'reorgWindow', 'maxBufferedLogs', 'parallel', 'pollInterval', 'retryBackoff', 'clock', 'random'], {
        abi: fc.oneof(fc.constant(['event Transfer(address indexed from, address indexed to, uint256 value)']), value),
        eventName: fc.oneof(fc.constant('Transfer'), value),
        retryBackoff: nested(['initial', 'max', 'factor', 'jitter']),
      }),
    )
    const subscribeOptions = fc.oneof(value, record(['signal', 'maxBackfill', 'pollInterval', 'onGap', 'onError', 'onReorg', 'onRemoved'], { signal: fc.oneof(fc.constantFrom(undefined, new AbortController().signal), value) }))
    await fc.assert(
      fc.asyncProperty(watchOptions, fc.oneof(fc.constant(() => {}), value), subscribeOptions, fc.oneof(fc.constantFrom('newHeads', 'logs'), value), fc.oneof(record(['address', 'topics', 'fromBlock']), value), async (options, handler, subOptions, kind, filter) => {
        const pool = workingPool()
        try {
          const watcher = typedOrBuilt(() => watchEvents(pool, options as never, handler as never), ['INVALID_OPTION', 'INVALID_ABI'])
          const done = watcher?.done.catch((error: unknown) => expect(isResilientRpcError(error), `watcher ended with ${String(error)}`).toBe(true))
          const listener = () => {}
          const args = kind === 'logs' ? [filter, listener, subOptions] : [listener, subOptions]
          const unsubscribe = typedOrBuilt(() => (pool.subscribe as (...a: unknown[]) => () => void)(kind, ...args))
          await vi.advanceTimersByTimeAsync(100)
          unsubscribe?.()
          await watcher?.stop()
          await done
        } finally {
          await pool.destroy()
        }
      }),
      { numRuns: 150 },
    )
  })
})
