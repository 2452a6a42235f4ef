import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { createPool, isResilientRpcError, type Strategy } from '../../src/index.js'
import { createFakeFetch, type Behaviour } from '../support/fakeFetch.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

// The pool's core promise, "every request settles", as a property: whatever the endpoints do, the
// request settles by its deadline with a result or one of our errors, and leaves nothing behind.

const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('ok' as const), delay: fc.option(fc.integer({ min: 1, max: 3_000 }), { nil: undefined }) }), weight: 4 },
  fc.constant({ kind: 'hang' as const }),
  fc.constant({ kind: 'network' as const }),
  fc.record({
    kind: fc.constant('status' as const),
    status: fc.constantFrom(401, 429, 500, 502),
    headers: fc.option(fc.record({ 'retry-after': fc.integer({ min: 0, max: 120 }).map(String) }), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('rpcError' as const),
    code: fc.constantFrom(3, -32602, -32000, -32603, -32005),
    message: fc.constantFrom('execution reverted', 'invalid argument 0', 'header not found', 'internal error', 'rate limit exceeded', 'nonce too low'),
  }),
  fc.constant({ kind: 'body' as const, body: '<html>502 Bad Gateway</html>' }),
)

const scenario = fc.record({
  // Each endpoint answers its calls with these behaviours in turn, the last one repeating.
  endpoints: fc.array(fc.array(behaviour, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
  strategy: fc.constantFrom<Strategy>('least-connections', 'weighted-round-robin'),
  timeout: fc.integer({ min: 50, max: 5_000 }),
  attemptTimeout: fc.integer({ min: 10, max: 2_000 }),
  retries: fc.integer({ min: 0, max: 4 }),
  random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  // Heartbeats ping the same scripted endpoints in the background (their calls take turns in the script too).
  heartbeat: fc.option(fc.record({ interval: fc.integer({ min: 100, max: 3_000 }), timeout: fc.integer({ min: 10, max: 1_500 }) }), { nil: false as const }),
  // A caller abort in about one run in four, mostly while the request runs.
  abort: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.constant('before' as const), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 5_000 }), weight: 2 },
  ),
})

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

async function run(s: Scenario): Promise<void> {
  const hosts = s.endpoints.map((_, i) => `e${i}`)
  const fake = createFakeFetch()
  for (const [i, script] of s.endpoints.entries()) {
    let calls = 0
    fake.set(hosts[i]!, () => script[Math.min(calls++, script.length - 1)]!)
  }
  const pool = createPool({
    endpoints: hosts.map((h) => `http://${h}`),
    strategy: s.strategy,
    heartbeat: s.heartbeat,
    fetch: fake.fetch,
    random: () => s.random,
  })
  try {
    const controller = new AbortController()
    const events: string[] = []
    const abort = () => {
      events.push('abort')
      controller.abort(new Error('caller gave up'))
    }
    if (s.abort === 'before') abort()
    else if (s.abort !== undefined) setTimeout(abort, Math.min(s.abort, s.timeout))

    const t0 = Date.now()
    const outcome: { settled: boolean; value?: unknown; error?: unknown; at?: number } = { settled: false }
    void pool
      .request('eth_blockNumber', [], { timeout: s.timeout, attemptTimeout: s.attemptTimeout, retries: s.retries, signal: controller.signal })
      .then(
        (value) => Object.assign(outcome, { settled: true, value }),
        (error: unknown) => Object.assign(outcome, { settled: true, error }),
      )
      .finally(() => {
        outcome.at = Date.now() - t0
        events.push('settled')
      })
    await vi.advanceTimersByTimeAsync(s.timeout + 1)

    // 1. It settled, by its deadline.
    expect(outcome.settled).toBe(true)
    expect(outcome.at).toBeLessThanOrEqual(s.timeout)
    // 2. With a result or one of our errors.
    if ('error' in outcome) {
      const error = outcome.error
      expect(isResilientRpcError(error), `not a ResilientRpcError: ${String(error)}`).toBe(true)
      if (isResilientRpcError(error, 'TIMEOUT')) expect(outcome.at).toBeLessThanOrEqual(s.timeout)
      // 3. ABORTED only when the caller aborted, and always when it aborted first.
      if (isResilientRpcError(error, 'ABORTED')) expect(events[0]).toBe('abort')
      if (events[0] === 'abort') expect(error).toMatchObject({ code: 'ABORTED' })
    } else {
      expect(outcome.value).toBe('0x1')
      expect(events[0]).toBe('settled')
    }
    // 4. Nothing in flight afterwards.
    expect(pool.stats().endpoints.map((e) => e.inFlight)).toEqual(hosts.map(() => 0))
  } finally {
    await pool.destroy()
  }
  // 5. Nothing left running once destroyed: no retry, no heartbeat, no breaker, no caller timer.
  expect(vi.getTimerCount()).toBe(0)
}

useCheckedFakeTimers()

describe('pool.request settles', () => {
  it('every request settles by its deadline, with a result or a ResilientRpcError, leaving nothing behind', async () => {
    await fc.assert(fc.asyncProperty(scenario, run), { numRuns: 200 })
  })

  it.each([
    { name: 'every endpoint hangs', endpoints: [[{ kind: 'hang' }], [{ kind: 'hang' }]] },
    { name: 'every endpoint is rate limited for longer than the deadline', endpoints: [[{ kind: 'status', status: 429, headers: { 'retry-after': '60' } }]] },
    { name: 'every endpoint refuses the credentials', endpoints: [[{ kind: 'status', status: 401 }], [{ kind: 'status', status: 403 }]] },
    { name: 'a slow success after a network error', endpoints: [[{ kind: 'network' }], [{ kind: 'ok', delay: 900 }]] },
  ] as Array<{ name: string; endpoints: Behaviour[][] }>)('known case: $name', async ({ endpoints }) => {
    for (const heartbeat of [false as const, { interval: 200, timeout: 100 }]) {
      await run({ endpoints, strategy: 'least-connections', timeout: 1_000, attemptTimeout: 300, retries: 4, random: 0, heartbeat, abort: undefined })
    }
  })
})

describe('clocks written as classes', () => {
  it('a pool with a class clock serves requests', async () => {
    class SystemClock {
      now() {
        return Date.now()
      }
      setTimeout(fn: () => void, ms: number) {
        return globalThis.setTimeout(fn, ms)
      }
      clearTimeout(handle: ReturnType<typeof globalThis.setTimeout>) {
        globalThis.clearTimeout(handle)
      }
    }
    const fake = createFakeFetch({ a: { kind: 'ok', result: '0x2a' } })
    const p = createPool({ endpoints: ['http://a'], heartbeat: false, clock: new SystemClock(), fetch: fake.fetch })
    try {
      await expect(p.request('eth_chainId')).resolves.toBe('0x2a')
    } finally {
      await p.destroy()
    }
  })
})
