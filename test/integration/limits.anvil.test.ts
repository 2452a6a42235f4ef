import { monitorEventLoopDelay } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { DEV_ACCOUNT } from '../support/devAccounts.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import { isResilientRpcError, type QuorumError } from '../../src/index.js'

// Production controls against a real node: three fault proxies in front of one anvil. Everything is
// asserted on what the proxies saw (request counts and arrival times) and on typed outcomes. Reads
// ask for DEV_ACCOUNT's balance: far from zero, so a lie is visible.

const node = useProxiedAnvil({
  http: 3,
  // Generous attempts: the machine running the tests may be busy, and a timed-out attempt would be retried.
  pool: { attemptTimeout: 5_000, heartbeat: { interval: 300 } },
})
const [A, B, C] = [0, 1, 2]

/** Most arrivals within any window of `ms` (sliding, starting at each arrival). */
function busiestWindow(arrivals: number[], ms: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! < sorted[i]! - ms + 1) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

describe('per-endpoint rate limits', () => {
  it('a burst of concurrent requests never exceeds any endpoint\'s rate and provokes no 429', async () => {
    const rate = { perSecond: 10, burst: 3 }
    // Each provider enforces the same rate with a deeper burst (as providers do: here a second's
    // worth). The proxy stamps arrivals in this process, where event-loop lag on a busy machine can
    // bunch up requests that took their tokens 100 ms apart (the tokens themselves were measured
    // within the bound): a burst of 6 gave way under a 300 ms stall. 60 requests at once without the
    // pool's limit would still bring 20 at once to each.
    const p = await node.pool({ endpoints: node.http.map((x) => node.endpoint(x, { rateLimit: rate })), dedupe: false, hedge: false }, { ready: 3 })
    for (const x of node.http) {
      x.setMode({ kind: 'quota', perSecond: rate.perSecond, burst: rate.perSecond })
      x.resetCounts()
    }
    const n = 60
    // The proxy stamps arrivals on this process's event loop: a stall of d ms delivers d ms worth of
    // requests at once, so the window bound below grows by the worst stall seen, measured.
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const results = await Promise.all(Array.from({ length: n }, () => p.request<string>('eth_getBalance', [DEV_ACCOUNT, 'latest'], { timeout: 30_000 })))
    loop.disable()
    const stallMs = loop.max / 1e6
    expect(new Set(results).size).toBe(1)
    for (const x of node.http) {
      expect(x.throttled()).toBe(0)
      // A token bucket admits at most burst + rate × T in any window T, heartbeats included; T is
      // stretched by the worst event-loop stall, during which arrivals bunch up.
      expect(busiestWindow(x.arrivals(), 1_000)).toBeLessThanOrEqual(rate.burst + Math.ceil((rate.perSecond * (1_000 + stallMs)) / 1_000))
    }
    // Every request got through; on a busy test machine an attempt may time out and be retried, which
    // takes a token like any other attempt (the window bound above holds all the same).
    const total = node.calls('eth_getBalance')
    expect(total).toBeGreaterThanOrEqual(n)
    for (const e of p.stats().endpoints) {
      expect(e.rateLimit?.lowered).toBe(false)
      expect(e.lastError?.code).not.toBe('RATE_LIMITED')
    }
  })

  it('without a configured rate, a 429 teaches the endpoint a lower one', async () => {
    const p = await node.pool({ dedupe: false, hedge: false }, { ready: 3 })
    node.http[A]!.setMode({ kind: 'quota', perSecond: 5, burst: 5 })
    await Promise.all(Array.from({ length: 60 }, () => p.request('eth_getBalance', [DEV_ACCOUNT, 'latest'], { timeout: 20_000 })))
    expect(node.http[A]!.throttled()).toBeGreaterThan(0)
    expect(p.stats().endpoints[A]!.rateLimit).toMatchObject({ configured: undefined, lowered: true })
    expect(p.stats().endpoints[B]!.rateLimit).toBeUndefined()
  })
})

describe('retry budget', () => {
  it('a pool under total failure stays within its retry budget', async () => {
    // Heartbeats off and a breaker that never opens: every endpoint stays in rotation, failing.
    const pool = node.pool({
      heartbeat: false,
      breaker: { volumeThreshold: 100_000 },
      backoff: { initial: 1, max: 5 },
      retries: 3,
      dedupe: false,
      hedge: false,
      retryBudget: { ratio: 0.2, minPerSecond: 1, window: 10_000 },
    })
    for (const x of node.http) x.setMode({ kind: 'http500' })
    const n = 100
    const outcomes = await Promise.all(Array.from({ length: n }, () => pool.request('eth_getBalance', [DEV_ACCOUNT, 'latest']).catch((e: unknown) => e)))
    // eth_getBalance only: a previous test's last heartbeat may still be arriving.
    const sent = node.calls('eth_getBalance')
    // Without the budget: 4 × 100 = 400. With it: 100 first attempts + 0.2 × 100 + 1/s × 10 s retries.
    expect(sent).toBeLessThanOrEqual(n + 0.2 * n + 10)
    expect(sent).toBeGreaterThan(n)
    const codes = outcomes.map((e) => (isResilientRpcError(e) ? e.code : 'other'))
    expect(codes.filter((c) => c === 'RETRY_BUDGET_EXHAUSTED').length).toBeGreaterThan(n / 2)
    expect(codes.every((c) => c === 'RETRY_BUDGET_EXHAUSTED' || c === 'RETRIES_EXHAUSTED')).toBe(true)
  })
})

describe('quorum reads', () => {
  it('one lying endpoint of three: the honest answer wins', async () => {
    const p = await node.pool({}, { ready: 3 })
    node.http[B]!.setMode({ kind: 'lie', ahead: 1, methods: ['eth_getBalance'] })
    const honest = await node.anvil.rpc<string>('eth_getBalance', [DEV_ACCOUNT, 'latest'])
    for (let i = 0; i < 5; i++) {
      await expect(p.request('eth_getBalance', [DEV_ACCOUNT, 'latest'], { quorum: 2 })).resolves.toBe(honest)
    }
    // Pinned to one block: each ask named a number, not `latest`; B was asked and outvoted at least once.
    expect(node.calls('eth_getBalance')).toBeGreaterThanOrEqual(10)
  })

  it('two liars of three (telling different lies): QUORUM_FAILED lists every answer and who gave it', async () => {
    const p = await node.pool({}, { ready: 3 })
    node.http[B]!.setMode({ kind: 'lie', ahead: 1, methods: ['eth_getBalance'] })
    node.http[C]!.setMode({ kind: 'lie', ahead: 2, methods: ['eth_getBalance'] })
    const honest = BigInt(await node.anvil.rpc<string>('eth_getBalance', [DEV_ACCOUNT, 'latest']))
    const error = (await p.request('eth_getBalance', [DEV_ACCOUNT], { quorum: 2 }).catch((e: unknown) => e)) as QuorumError
    expect(error).toMatchObject({ code: 'QUORUM_FAILED' })
    const byEndpoint = Object.fromEntries(error.answers.flatMap((a) => a.endpoints.map((e) => [e, BigInt(a.result as string)])))
    expect(byEndpoint).toEqual({ A: honest, B: honest + 1n, C: honest + 2n })
    expect(node.http.map((x) => x.methodCounts()['eth_getBalance'])).toEqual([1, 1, 1])
  })
})
