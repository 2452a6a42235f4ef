import { afterEach, describe, expect, it, vi } from 'vitest'
import type { BreakerState, EndpointStatus } from '../../src/types/endpoint.js'
import { HttpError, NetworkError, RateLimitedError, RpcResponseError, UnauthorizedError } from '../../src/errors/endpoint.js'
import { TimeoutError } from '../../src/errors/request.js'
import { Endpoint, type EndpointHooks } from '../../src/endpoint/endpoint.js'
import { resolvePoolOptions } from '../../src/config/resolvePool.js'
import type { EndpointConfig, PoolOptions } from '../../src/config/poolOptions.js'
import { createFakeFetch } from '../support/fakeFetch.js'
import { useCheckedFakeTimers } from '../support/fakeTimers.js'

// One endpoint record, driven directly. The breaker inside keeps a rolling-window interval, so fake
// timers are installed before any endpoint is built. Heartbeats are off unless a test says otherwise,
// so the endpoint is trusted (up) from the start and only the request outcomes move it.

const NOW = 1_000_000

let endpoint: Endpoint | undefined
let breakerCalls: BreakerState[]

function make(config: EndpointConfig = 'http://a.example/v3/KEY', options: Partial<PoolOptions> = {}): Endpoint {
  breakerCalls = []
  const resolved = resolvePoolOptions({ endpoints: [config], heartbeat: false, ...options })
  const hooks: EndpointHooks = {
    onBreaker: (ep, state) => {
      expect(ep).toBe(endpoint)
      breakerCalls.push(state)
    },
  }
  endpoint = new Endpoint(resolved.endpoints[0]!, 0, resolved, hooks)
  return endpoint
}

const network = () => new NetworkError({ endpoint: 'a', details: 'ECONNREFUSED' })
const settle = () => vi.advanceTimersByTimeAsync(0)
const status = (e: Endpoint, now: number): EndpointStatus => {
  e.updateStatus(now, undefined, true)
  return e.view.status
}

useCheckedFakeTimers()

afterEach(() => {
  endpoint?.destroy()
  endpoint = undefined
})

describe('Endpoint: initial record', () => {
  it('starts up, closed, idle and at full weight, named by its redacted id', () => {
    const e = make({ url: 'http://a.example/v3/KEY', weight: 3, tier: 'backup' })
    expect(e.id).toBe('http://a.example:80#0')
    expect(e.view).toMatchObject({
      id: 'http://a.example:80#0',
      index: 0,
      tier: 'backup',
      weight: 3,
      health: 'up',
      restriction: undefined,
      restrictedUntil: 0,
      restrictionReason: undefined,
      breaker: 'closed',
      trialInFlight: false,
      inFlight: 0,
      effectiveWeight: 3,
      latencyEwma: undefined,
      consecutiveFailures: 0,
      requests: 0,
      successes: 0,
      failures: 0,
      lastError: undefined,
    })
    expect(status(e, NOW)).toBe('up')
    expect(e.view.breaker).toBe('closed')
  })

  it.each([
    { name: 'heartbeats off: trusted from the start', heartbeat: false as const, expected: 'up' },
    { name: 'heartbeats on: connecting until verified', heartbeat: {}, expected: 'connecting' },
  ])('$name', ({ heartbeat, expected }) => {
    const e = make('http://a.example', { heartbeat })
    expect(e.view.health).toBe(expected)
    expect(status(e, NOW)).toBe(expected)
  })

  it('its transport uses the pool fetch, the URL and the endpoint headers', async () => {
    const fake = createFakeFetch({ 'a.example': { kind: 'ok', result: '0x7' } })
    const e = make({ url: 'http://a.example/v3/KEY', headers: { Authorization: 'Bearer t' } }, { fetch: fake.fetch })
    await expect(e.transport.request('eth_chainId', [], { signal: new AbortController().signal })).resolves.toBe('0x7')
    expect(fake.calls).toHaveLength(1)
    expect(fake.calls[0]!.headers).toMatchObject({ Authorization: 'Bearer t' })
  })
})

describe('Endpoint.recordSuccess', () => {
  it.each([
    { name: 'one sample is taken as is', samples: [100], expected: [100] },
    { name: 'then alpha 0.3', samples: [100, 200], expected: [100, 130] },
    { name: 'a series', samples: [100, 200, 50, 50], expected: [100, 130, 106, 89.2] },
    { name: 'a first sample of 0', samples: [0, 100], expected: [0, 30] },
    { name: 'steady latency stays put', samples: [40, 40, 40], expected: [40, 40, 40] },
  ])('latency EWMA: $name', ({ samples, expected }) => {
    const e = make()
    const seen = samples.map((s) => {
      e.recordSuccess(s, 0)
      return e.view.latencyEwma
    })
    expect(seen.length).toBe(expected.length)
    for (const [i, v] of expected.entries()) expect(seen[i]).toBeCloseTo(v, 9)
  })

  it('counts the success and resets consecutiveFailures', () => {
    const e = make()
    for (let i = 0; i < 3; i++) e.recordError('failure', network(), NOW)
    expect(e.view.consecutiveFailures).toBe(3)
    e.recordSuccess(10, 0)
    expect(e.view).toMatchObject({ successes: 1, failures: 3, consecutiveFailures: 0 })
  })

  it.each([
    { weight: 10, failures: 1, expected: [6, 7, 8, 9, 10, 10] },
    { weight: 10, failures: 2, expected: [2, 3, 4, 5, 6, 7] },
    { weight: 4, failures: 1, expected: [2.4, 2.8, 3.2, 3.6, 4, 4] },
    { weight: 1, failures: 1, expected: [1, 1, 1] },
  ])('restores effectiveWeight by weight/10 up to weight (weight $weight after $failures failures)', ({ weight, failures, expected }) => {
    const e = make({ url: 'http://a.example', weight })
    for (let i = 0; i < failures; i++) e.recordError('failure', network(), NOW)
    const seen = expected.map(() => {
      e.recordSuccess(10, 0)
      return e.view.effectiveWeight
    })
    for (const [i, v] of expected.entries()) expect(seen[i]).toBeCloseTo(v, 9)
    expect(e.view.effectiveWeight).toBeLessThanOrEqual(weight)
  })

  it('at full weight stays at full weight', () => {
    const e = make({ url: 'http://a.example', weight: 5 })
    e.recordSuccess(10, 0)
    expect(e.view.effectiveWeight).toBe(5)
  })
})

describe('Endpoint.recordError', () => {
  it.each([
    { weight: 10, expected: [5, 1, 1] },
    { weight: 4, expected: [2, 1, 1] },
    { weight: 3, expected: [1.5, 1, 1] },
    { weight: 1, expected: [1, 1, 1] },
    { weight: 0.5, expected: [0.5, 0.5, 0.5] },
  ])("'failure' lowers effectiveWeight by weight/2 down to min(1, weight) (weight $weight → $expected)", ({ weight, expected }) => {
    const e = make({ url: 'http://a.example', weight })
    const seen = expected.map(() => {
      e.recordError('failure', network(), NOW)
      return e.view.effectiveWeight
    })
    expect(seen).toEqual(expected)
  })

  it("'failure' counts the failure, the consecutive failure and keeps the error, without touching status", () => {
    const e = make()
    const first = network()
    const second = new HttpError(502)
    e.recordError('failure', first, NOW)
    expect(e.view).toMatchObject({ failures: 1, consecutiveFailures: 1, lastError: first, restriction: undefined })
    e.recordError('failure', second, NOW)
    expect(e.view).toMatchObject({ failures: 2, consecutiveFailures: 2, lastError: second, restriction: undefined })
    expect(status(e, NOW)).toBe('up')
  })

  it("'failure' feeds the breaker, which reports its transitions through the hooks and the record", async () => {
    const e = make('http://a.example', { breaker: { volumeThreshold: 3, resetTimeout: 1_000 } })
    for (let i = 0; i < 3; i++) {
      e.recordError('failure', new TimeoutError('attempt', 100), NOW)
      await settle()
    }
    expect(e.view.breaker).toBe('open')
    expect(e.view.breaker).toBe('open')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(e.view.breaker).toBe('half-open')
    e.recordSuccess(5, 0)
    await settle()
    expect(e.view.breaker).toBe('closed')
    expect(breakerCalls).toEqual(['open', 'half-open', 'closed'])
  })

  it("'failure' of an attempt sent before the endpoint went down and came back is counted, but not held against it", async () => {
    const e = make('http://a.example', { breaker: { volumeThreshold: 1 } })
    const sentIn = e.view.generation
    e.setHealth('down', network())
    e.setHealth('up', undefined)
    e.recordError('failure', new TimeoutError('attempt', 5_000), NOW, NOW - 5_000, sentIn)
    await settle()
    expect(e.view).toMatchObject({ failures: 1, consecutiveFailures: 0, effectiveWeight: 1, breaker: 'closed', lastError: { code: 'TIMEOUT' } })
    expect(breakerCalls).toEqual([])
    // One sent on the connection it has now is.
    e.recordError('failure', new TimeoutError('attempt', 5_000), NOW, NOW - 5_000, e.view.generation)
    await settle()
    expect(e.view).toMatchObject({ failures: 2, consecutiveFailures: 1, breaker: 'open' })
  })

  it("'neutral' changes nothing: not the record, not the breaker, no hook", async () => {
    const e = make('http://a.example', { breaker: { volumeThreshold: 1 } })
    e.recordSuccess(20, 0)
    const before = structuredClone(e.view)
    for (let i = 0; i < 5; i++) {
      e.recordError('neutral', new RpcResponseError({ code: 3, message: 'execution reverted' }), NOW)
      await settle()
    }
    expect(e.view).toEqual(before)
    expect(e.view.samples.errorRate()).toBe(0)
    expect(e.view.breaker).toBe('closed')
    expect(status(e, NOW)).toBe('up')
    expect(breakerCalls).toEqual([])
  })

  it.each([
    { name: 'no Retry-After: rateLimitCooldown', retryAfter: undefined, options: {}, until: NOW + 1_000 },
    { name: 'Retry-After 5 s', retryAfter: 5_000, options: {}, until: NOW + 5_000 },
    { name: 'Retry-After above maxRetryAfter is capped', retryAfter: 120_000, options: {}, until: NOW + 60_000 },
    { name: 'a custom rateLimitCooldown', retryAfter: undefined, options: { rateLimitCooldown: 2_500 }, until: NOW + 2_500 },
    { name: 'a custom maxRetryAfter caps', retryAfter: 9_000, options: { maxRetryAfter: 3_000 }, until: NOW + 3_000 },
    { name: 'maxRetryAfter caps the default cooldown too', retryAfter: undefined, options: { maxRetryAfter: 500 }, until: NOW + 500 },
  ])("'rate-limited' with $name → cooldown until $until", ({ retryAfter, options, until }) => {
    const e = make('http://a.example', options)
    const error = new RateLimitedError(retryAfter)
    expect(status(e, NOW)).toBe('up')
    e.recordError('rate-limited', error, NOW)
    expect(e.view).toMatchObject({ restriction: 'cooldown', restrictedUntil: until, restrictionReason: error.shortMessage, failures: 1, lastError: error })
    expect(status(e, NOW)).toBe('cooldown')
    expect(status(e, until - 1)).toBe('cooldown')
    expect(status(e, until)).toBe('up')
  })

  it("'rate-limited' neither lowers the weight, nor counts a consecutive failure, nor feeds the breaker", async () => {
    const e = make('http://a.example', { breaker: { volumeThreshold: 1 } })
    for (let i = 0; i < 5; i++) {
      e.recordError('rate-limited', new RateLimitedError(undefined), NOW)
      await settle()
    }
    expect(e.view).toMatchObject({ effectiveWeight: 1, consecutiveFailures: 0, failures: 5, breaker: 'closed' })
    expect(breakerCalls).toEqual([])
  })

  it.each([
    { name: 'a shorter one keeps the longer running cooldown', first: 10_000, second: 2_000, until: NOW + 10_000 },
    { name: 'a longer one extends it', first: 2_000, second: 10_000, until: NOW + 10_000 },
  ])("'rate-limited' twice: $name", ({ first, second, until }) => {
    const e = make()
    e.recordError('rate-limited', new RateLimitedError(first), NOW)
    e.recordError('rate-limited', new RateLimitedError(second), NOW)
    expect(e.view).toMatchObject({ restriction: 'cooldown', restrictedUntil: until, failures: 2 })
  })

  it('a later, shorter rate limit does not shorten the cooldown either', () => {
    const e = make()
    e.recordError('rate-limited', new RateLimitedError(10_000), NOW)
    e.recordError('rate-limited', new RateLimitedError(1_000), NOW + 5_000)
    expect(e.view.restrictedUntil).toBe(NOW + 10_000)
  })

  it.each([
    { name: 'the default 60 s', options: {}, until: NOW + 60_000 },
    { name: 'a custom unauthorizedCooldown', options: { unauthorizedCooldown: 5_000 }, until: NOW + 5_000 },
  ])("'unauthorized' takes the endpoint out for $name", ({ options, until }) => {
    const e = make('http://a.example', options)
    const error = new UnauthorizedError(401)
    e.recordError('unauthorized', error, NOW)
    expect(e.view).toMatchObject({ restriction: 'unauthorized', restrictedUntil: until, restrictionReason: error.shortMessage, failures: 1, lastError: error })
    expect(e.view.consecutiveFailures).toBe(0)
    expect(status(e, NOW)).toBe('unauthorized')
    expect(status(e, until)).toBe('up')
  })
})

describe('Endpoint.refresh', () => {
  it.each([
    { name: 'a cooldown', verdict: 'rate-limited' as const, error: () => new RateLimitedError(3_000), until: NOW + 3_000, restriction: 'cooldown' },
    { name: 'an unauthorized spell', verdict: 'unauthorized' as const, error: () => new UnauthorizedError(403), until: NOW + 60_000, restriction: 'unauthorized' },
  ])('lifts $name once its time is up, not before', ({ verdict, error, until, restriction }) => {
    const e = make()
    e.recordError(verdict, error(), NOW)
    e.refresh(until - 1)
    expect(e.view).toMatchObject({ restriction, restrictedUntil: until })
    e.refresh(until)
    expect(e.view).toMatchObject({ restriction: undefined, restrictionReason: undefined })
    expect(status(e, until)).toBe('up')
  })

  it('does nothing to an endpoint that is not restricted', () => {
    const e = make()
    const before = structuredClone(e.view)
    e.refresh(NOW)
    e.refresh(Number.MAX_SAFE_INTEGER)
    expect(e.view).toEqual(before)
  })

  it('a rate limit after the cooldown lifted starts a new one', () => {
    const e = make()
    e.recordError('rate-limited', new RateLimitedError(1_000), NOW)
    e.refresh(NOW + 1_000)
    e.recordError('rate-limited', new RateLimitedError(500), NOW + 2_000)
    expect(e.view).toMatchObject({ restriction: 'cooldown', restrictedUntil: NOW + 2_500 })
  })

  it('a rate limit after an expired but not yet lifted cooldown starts a new one, even if shorter', () => {
    const e = make()
    e.recordError('rate-limited', new RateLimitedError(1_000), NOW)
    e.recordError('rate-limited', new RateLimitedError(500), NOW + 5_000)
    expect(e.view).toMatchObject({ restriction: 'cooldown', restrictedUntil: NOW + 5_500 })
  })
})

describe('Endpoint.destroy', () => {
  it('leaves no timers, even with an open breaker waiting to reset', async () => {
    const e = make('http://a.example', { breaker: { volumeThreshold: 1 } })
    e.recordError('failure', network(), NOW)
    await settle()
    expect(e.view.breaker).toBe('open')
    expect(vi.getTimerCount()).toBeGreaterThan(0)
    e.destroy()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(breakerCalls).toEqual(['open'])
  })

  it('is idempotent', () => {
    const e = make()
    e.destroy()
    e.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('restrictions of different kinds', () => {
  it('a late 429 does not shorten a running unauthorized exclusion', () => {
    const NOW = 1_000_000
    const e = make('http://a.example', { heartbeat: false })
    e.recordError('unauthorized', new UnauthorizedError(401), NOW)
    e.recordError('rate-limited', new RateLimitedError(undefined), NOW)
    expect(e.view.restrictedUntil).toBe(NOW + 60_000)
    expect(e.view.restriction).toBe('unauthorized')
  })
})

describe('Endpoint: reserving attempts and heads seen in answers', () => {
  it('reserve counts an attempt in flight (and a half-open trial) until release gives it back', async () => {
    const e = make('http://a.example', { breaker: { volumeThreshold: 1, resetTimeout: 100 } })
    expect(e.reserve(NOW)).toBe(false)
    expect(e.view).toMatchObject({ inFlight: 1, requests: 1, trialInFlight: false })
    e.release(false)
    expect(e.view.inFlight).toBe(0)
    e.recordError('failure', network(), NOW)
    await settle()
    await vi.advanceTimersByTimeAsync(100)
    expect(e.view.breaker).toBe('half-open')
    const trial = e.reserve(NOW)
    expect(trial).toBe(true)
    expect(e.view).toMatchObject({ inFlight: 1, trialInFlight: true })
    e.release(trial)
    expect(e.view).toMatchObject({ inFlight: 0, trialInFlight: false })
  })

  it('sawHead only ever raises the head it knows, says whether it rose, and when the head was last seen', () => {
    const e = make()
    expect(e.sawHead(10n, 100)).toBe(true)
    expect(e.sawHead(7n, 200)).toBe(false)
    expect(e.view).toMatchObject({ head: 10n, headAt: 100 })
    expect(e.sawHead(10n, 250)).toBe(false)
    expect(e.view).toMatchObject({ head: 10n, headAt: 250 })
    expect(e.sawHead(12n, 300)).toBe(true)
    expect(e.view).toMatchObject({ head: 12n, headAt: 300 })
  })
})
