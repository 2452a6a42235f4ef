import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors/invalidOption.js'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { DEFAULT_BACKOFF } from '../../src/config/defaults.js'
import { DEFAULT_HEARTBEAT } from '../../src/config/defaults.js'
import { DEFAULT_BREAKER } from '../../src/config/defaults.js'
import { resolvePoolOptions } from '../../src/config/resolvePool.js'
import type { PoolOptions } from '../../src/config/poolOptions.js'
import { systemClock } from '../../src/util/clock.js'

const URL_A = 'https://a.example/rpc'
const URL_B = 'https://b.example/rpc'

/** Runs `resolvePoolOptions` and returns the `InvalidOptionError` it threw; fails the test otherwise. */
function rejection(options: unknown): InvalidOptionError {
  try {
    resolvePoolOptions(options as PoolOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect(isResilientRpcError(error, 'INVALID_OPTION')).toBe(true)
    return error as InvalidOptionError
  }
  throw new Error('expected resolvePoolOptions to throw')
}

describe('resolvePoolOptions', () => {
  describe('defaults', () => {
    it('applies every default', () => {
      const r = resolvePoolOptions({ endpoints: [URL_A] })
      expect(r).toEqual({
        endpoints: [{ id: 'https://a.example:443#0', url: URL_A, weight: 1, tier: 'primary', headers: {}, maxConcurrency: undefined, rateLimit: undefined }],
        strategy: 'least-connections',
        defaultTimeout: 30_000,
        attemptTimeout: 5_000,
        retries: 3,
        backoff: { initial: 100, factor: 2, max: 2_000, jitter: 0.5 },
        breaker: { errorThresholdPercentage: 50, volumeThreshold: 5, rollingWindow: 10_000, resetTimeout: 5_000 },
        heartbeat: { interval: 2_000, timeout: 1_500, failuresToDown: 2, jitter: 0.2, unref: true, chainCheckInterval: 60_000 },
        chainId: undefined,
        maxLag: 5n,
        hedge: { delay: 'adaptive', minDelay: 50, initialDelay: 500, budget: 0.1 },
        dedupe: true,
        cache: { finalityDepth: 64, maxEntries: 1_000 },
        batch: false,
        webSocket: {},
        maxQueue: Infinity,
        retryBudget: { ratio: 0.2, minPerSecond: 5, window: 10_000 },
        rateLimitCooldown: 1_000,
        maxRetryAfter: 60_000,
        unauthorizedCooldown: 60_000,
        clock: systemClock,
        random: Math.random,
        fetch: undefined,
        tracer: undefined,
        logger: undefined,
        logRateLimit: {},
        maxResponseBytes: 32 * 1024 * 1024,
        maxSockets: 64,
      })
      expect(r.backoff).toEqual(DEFAULT_BACKOFF)
      expect(r.breaker).toEqual(DEFAULT_BREAKER)
      expect(r.heartbeat).toEqual(DEFAULT_HEARTBEAT)
    })

    it('does not share the default backoff, breaker and heartbeat objects', () => {
      const r = resolvePoolOptions({ endpoints: [URL_A] })
      expect(r.backoff).not.toBe(DEFAULT_BACKOFF)
      expect(r.breaker).not.toBe(DEFAULT_BREAKER)
      expect(r.heartbeat).not.toBe(DEFAULT_HEARTBEAT)
    })

    it('keeps given values and merges partial backoff, breaker and heartbeat options over the defaults', () => {
      const clock = { now: () => 0, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout }
      const random = () => 0.5
      const fetchImpl = (async () => new Response('{}')) as typeof fetch
      const r = resolvePoolOptions({
        endpoints: [{ url: URL_A, name: 'a', weight: 3, tier: 'backup', headers: { 'X-Api-Key': 'k' }, maxConcurrency: 4, rateLimit: { perSecond: 10 } }, URL_B],
        strategy: 'weighted-round-robin',
        defaultTimeout: 10_000,
        attemptTimeout: 1_000,
        retries: 0,
        backoff: { jitter: 0 },
        breaker: { resetTimeout: 1 },
        heartbeat: { interval: 500, unref: false },
        chainId: 1,
        maxLag: 0,
        hedge: { delay: 200, budget: 0.5 },
        dedupe: false,
        cache: false,
        batch: { maxSize: 4 },
        maxQueue: 0,
        retryBudget: { ratio: 0.5 },
        rateLimitCooldown: 0,
        maxRetryAfter: 0,
        unauthorizedCooldown: 0,
        clock,
        random,
        fetch: fetchImpl,
        maxResponseBytes: 1_000,
        maxSockets: 2,
      })
      expect(r).toEqual({
        endpoints: [
          { id: 'a', url: URL_A, weight: 3, tier: 'backup', headers: { 'X-Api-Key': 'k' }, maxConcurrency: 4, rateLimit: { perSecond: 10, burst: 10 } },
          { id: 'https://b.example:443#1', url: URL_B, weight: 1, tier: 'primary', headers: {}, maxConcurrency: undefined, rateLimit: undefined },
        ],
        strategy: 'weighted-round-robin',
        defaultTimeout: 10_000,
        attemptTimeout: 1_000,
        retries: 0,
        backoff: { initial: 100, factor: 2, max: 2_000, jitter: 0 },
        breaker: { errorThresholdPercentage: 50, volumeThreshold: 5, rollingWindow: 10_000, resetTimeout: 1 },
        heartbeat: { interval: 500, timeout: 1_500, failuresToDown: 2, jitter: 0.2, unref: false, chainCheckInterval: 60_000 },
        chainId: 1n,
        maxLag: 0n,
        hedge: { delay: 200, minDelay: 50, initialDelay: 500, budget: 0.5 },
        dedupe: false,
        cache: false,
        batch: { maxSize: 4, wait: 0 },
        webSocket: {},
        maxQueue: 0,
        retryBudget: { ratio: 0.5, minPerSecond: 5, window: 10_000 },
        rateLimitCooldown: 0,
        maxRetryAfter: 0,
        unauthorizedCooldown: 0,
        clock,
        random,
        fetch: fetchImpl,
        tracer: undefined,
        logger: undefined,
        logRateLimit: {},
        maxResponseBytes: 1_000,
        maxSockets: 2,
      })
    })

    it.each([
      { name: 'zero back-off', options: { backoff: { initial: 0, max: 0 } } },
      { name: 'jitter 0 and 1', options: { backoff: { jitter: 1 } } },
      { name: 'fractional weight', options: { endpoints: [{ url: URL_A, weight: 0.5 }] } },
      { name: 'breaker thresholds at their bounds', options: { breaker: { errorThresholdPercentage: 0, volumeThreshold: 0 } } },
      { name: 'an infinite request timeout', options: { defaultTimeout: Number.POSITIVE_INFINITY } },
      { name: 'an http URL with a port', options: { endpoints: ['http://127.0.0.1:8545'] } },
      { name: 'a header with a tab inside its value', options: { endpoints: [{ url: URL_A, headers: { 'X-Trace': 'a\tb' } }] } },
    ])('accepts $name', ({ options }) => {
      expect(() => resolvePoolOptions({ endpoints: [URL_A], ...options } as PoolOptions)).not.toThrow()
    })
  })

  describe('health options', () => {
    it.each([
      { name: 'not given', heartbeat: undefined, expected: DEFAULT_HEARTBEAT },
      { name: 'false (disabled)', heartbeat: false as const, expected: false as const },
      { name: 'an empty object', heartbeat: {}, expected: DEFAULT_HEARTBEAT },
      { name: 'a partial object', heartbeat: { timeout: 300, jitter: 0 }, expected: { interval: 2_000, timeout: 300, failuresToDown: 2, jitter: 0, unref: true, chainCheckInterval: 60_000 } },
      { name: 'every field', heartbeat: { interval: 10, timeout: 5, failuresToDown: 1, jitter: 1, unref: false, chainCheckInterval: Infinity }, expected: { interval: 10, timeout: 5, failuresToDown: 1, jitter: 1, unref: false, chainCheckInterval: Infinity } },
    ])('heartbeat $name', ({ heartbeat, expected }) => {
      expect(resolvePoolOptions({ endpoints: [URL_A], heartbeat }).heartbeat).toEqual(expected)
    })

    it.each([
      { chainId: 1, expected: 1n },
      { chainId: 137, expected: 137n },
      { chainId: 1n, expected: 1n },
      { chainId: 2n ** 64n, expected: 2n ** 64n },
      { chainId: undefined, expected: undefined },
    ])('chainId $chainId → $expected', ({ chainId, expected }) => {
      expect(resolvePoolOptions({ endpoints: [URL_A], chainId }).chainId).toBe(expected)
    })

    it.each([
      { maxLag: undefined, expected: 5n },
      { maxLag: 0, expected: 0n },
      { maxLag: 0n, expected: 0n },
      { maxLag: 12, expected: 12n },
      { maxLag: 64n, expected: 64n },
    ])('maxLag $maxLag → $expected', ({ maxLag, expected }) => {
      expect(resolvePoolOptions({ endpoints: [URL_A], maxLag }).maxLag).toBe(expected)
    })
  })

  describe('endpoints', () => {
    it.each([
      { name: 'a plain URL', input: 'http://localhost:8545', url: 'http://localhost:8545/', id: 'http://localhost:8545#0' },
      { name: 'https default port', input: 'https://eth.example/v3/abc?x=1', url: 'https://eth.example/v3/abc?x=1', id: 'https://eth.example:443#0' },
      { name: 'http default port', input: 'http://eth.example', url: 'http://eth.example/', id: 'http://eth.example:80#0' },
      { name: 'upper-case scheme and host', input: 'HTTPS://ETH.Example/rpc', url: 'https://eth.example/rpc', id: 'https://eth.example:443#0' },
    ])('normalises $name', ({ input, url, id }) => {
      expect(resolvePoolOptions({ endpoints: [input] }).endpoints[0]).toMatchObject({ url, id })
    })

    it('numbers endpoints by position in the ids', () => {
      const ids = resolvePoolOptions({ endpoints: [URL_A, URL_A, { url: URL_A, name: 'third' }] }).endpoints.map((e) => e.id)
      expect(ids).toEqual(['https://a.example:443#0', 'https://a.example:443#1', 'third'])
    })

    it.each([
      { name: 'user and password', url: 'https://alice:s3cret@a.example/rpc', auth: `Basic ${btoa('alice:s3cret')}`, expected: 'https://a.example/rpc' },
      { name: 'user only (API key as user)', url: 'https://KEY123@a.example/v3', auth: `Basic ${btoa('KEY123:')}`, expected: 'https://a.example/v3' },
      { name: 'password only', url: 'https://:pw@a.example/', auth: `Basic ${btoa(':pw')}`, expected: 'https://a.example/' },
      { name: 'percent-encoded characters', url: 'https://al%40ce:p%3Ass%20w@a.example/', auth: `Basic ${btoa('al@ce:p:ss w')}`, expected: 'https://a.example/' },
      { name: 'userinfo with a query', url: 'http://u:p@a.example:8545/rpc?x=1', auth: `Basic ${btoa('u:p')}`, expected: 'http://a.example:8545/rpc?x=1' },
    ])('turns userinfo into a Basic Authorization header and strips it from the url: $name', ({ url, auth, expected }) => {
      const [e] = resolvePoolOptions({ endpoints: [url] }).endpoints
      expect(e!.headers).toEqual({ Authorization: auth })
      expect(e!.url).toBe(expected)
      expect(e!.id).not.toContain('@')
    })

    it.each(['Authorization', 'authorization', 'AUTHORIZATION'])('keeps an explicit %s header over the userinfo, and still strips the userinfo', (name) => {
      const [e] = resolvePoolOptions({ endpoints: [{ url: 'https://alice:pw@a.example/', headers: { [name]: 'Bearer tok' } }] }).endpoints
      expect(e!.headers).toEqual({ [name]: 'Bearer tok' })
      expect(e!.url).toBe('https://a.example/')
    })

    it('does not share the headers object with the caller', () => {
      const headers = { 'X-Api-Key': 'k' }
      const [e] = resolvePoolOptions({ endpoints: [{ url: 'https://u:p@a.example/', headers }] }).endpoints
      expect(e!.headers).not.toBe(headers)
      expect(headers).toEqual({ 'X-Api-Key': 'k' })
    })
  })

  describe('invalid options', () => {
    const bad = (endpoint: unknown) => ({ endpoints: [endpoint] })
    it.each([
      { name: 'options not an object', options: null, option: 'options' },
      { name: 'options a string', options: URL_A, option: 'options' },
      { name: 'no endpoints', options: {}, option: 'endpoints' },
      { name: 'empty endpoints', options: { endpoints: [] }, option: 'endpoints' },
      { name: 'endpoints a string', options: { endpoints: URL_A }, option: 'endpoints' },
      { name: 'endpoint null', options: bad(null), option: 'endpoints[0]' },
      { name: 'endpoint a number', options: bad(8545), option: 'endpoints[0]' },
      { name: 'url missing', options: bad({ name: 'a' }), option: 'endpoints[0].url' },
      { name: 'url not a string', options: bad({ url: new URL(URL_A) }), option: 'endpoints[0].url' },
      { name: 'bad URL', options: bad('not a url'), option: 'endpoints[0].url' },
      { name: 'relative URL', options: bad('/rpc'), option: 'endpoints[0].url' },
      { name: 'host without a scheme', options: bad('localhost8545'), option: 'endpoints[0].url' },
      { name: 'empty URL', options: bad(''), option: 'endpoints[0].url' },
      { name: 'ftp: scheme', options: bad('ftp://a.example/rpc'), option: 'endpoints[0].url', message: /unsupported scheme "ftp:"/ },
      { name: 'file: scheme', options: bad('file:///tmp/geth.ipc'), option: 'endpoints[0].url', message: /unsupported scheme "file:"/ },
      { name: 'gopher: scheme', options: bad('gopher://a.example/rpc'), option: 'endpoints[0].url', message: /expected http:, https:, ws: or wss:/ },
      { name: 'second endpoint bad', options: { endpoints: [URL_A, 'nope'] }, option: 'endpoints[1].url' },
      { name: 'weight 0', options: bad({ url: URL_A, weight: 0 }), option: 'endpoints[0].weight' },
      { name: 'weight -1', options: bad({ url: URL_A, weight: -1 }), option: 'endpoints[0].weight' },
      { name: 'weight NaN', options: bad({ url: URL_A, weight: Number.NaN }), option: 'endpoints[0].weight' },
      { name: 'weight Infinity', options: bad({ url: URL_A, weight: Number.POSITIVE_INFINITY }), option: 'endpoints[0].weight' },
      { name: 'weight a string', options: bad({ url: URL_A, weight: '2' }), option: 'endpoints[0].weight' },
      { name: 'bad tier', options: bad({ url: URL_A, tier: 'secondary' }), option: 'endpoints[0].tier' },
      { name: 'empty name', options: bad({ url: URL_A, name: '' }), option: 'endpoints[0].name' },
      { name: 'blank name', options: bad({ url: URL_A, name: '  ' }), option: 'endpoints[0].name' },
      { name: 'name not a string', options: bad({ url: URL_A, name: 7 }), option: 'endpoints[0].name' },
      { name: 'unknown strategy', options: { endpoints: [URL_A], strategy: 'random' }, option: 'strategy' },
      { name: 'backoff a string', options: { endpoints: [URL_A], backoff: 'fast' }, option: 'backoff' },
      { name: 'breaker a number', options: { endpoints: [URL_A], breaker: 5 }, option: 'breaker' },
      { name: 'heartbeat an array', options: { endpoints: [URL_A], heartbeat: [5_000] }, option: 'heartbeat' },
      { name: 'hedge a string', options: { endpoints: [URL_A], hedge: 'fast' }, option: 'hedge' },
      { name: 'hedge delay 0', options: { endpoints: [URL_A], hedge: { delay: 0 } }, option: 'hedge.delay' },
      { name: 'hedge budget above 1', options: { endpoints: [URL_A], hedge: { budget: 2 } }, option: 'hedge.budget' },
      { name: 'dedupe a string', options: { endpoints: [URL_A], dedupe: 'yes' }, option: 'dedupe' },
      { name: 'maxConcurrency 0', options: bad({ url: URL_A, maxConcurrency: 0 }), option: 'endpoints[0].maxConcurrency' },
      { name: 'maxConcurrency fractional', options: bad({ url: URL_A, maxConcurrency: 1.5 }), option: 'endpoints[0].maxConcurrency' },
      { name: 'rateLimit a number', options: bad({ url: URL_A, rateLimit: 10 }), option: 'endpoints[0].rateLimit' },
      { name: 'rateLimit perSecond 0', options: bad({ url: URL_A, rateLimit: { perSecond: 0 } }), option: 'endpoints[0].rateLimit.perSecond' },
      { name: 'rateLimit burst below 1', options: bad({ url: URL_A, rateLimit: { perSecond: 5, burst: 0.5 } }), option: 'endpoints[0].rateLimit.burst' },
      { name: 'maxQueue negative', options: { endpoints: [URL_A], maxQueue: -1 }, option: 'maxQueue' },
      { name: 'retryBudget a number', options: { endpoints: [URL_A], retryBudget: 0.2 }, option: 'retryBudget' },
      { name: 'retryBudget ratio negative', options: { endpoints: [URL_A], retryBudget: { ratio: -0.1 } }, option: 'retryBudget.ratio' },
      { name: 'retryBudget minPerSecond NaN', options: { endpoints: [URL_A], retryBudget: { minPerSecond: Number.NaN } }, option: 'retryBudget.minPerSecond' },
      { name: 'retryBudget window 0', options: { endpoints: [URL_A], retryBudget: { window: 0 } }, option: 'retryBudget.window' },
      { name: 'duplicate names', options: { endpoints: [{ url: URL_A, name: 'x' }, { url: URL_B, name: 'y' }, { url: URL_B, name: 'x' }] }, option: 'endpoints[2].name' },
      { name: 'a name equal to another endpoint\'s id', options: { endpoints: [URL_A, { url: URL_B, name: 'https://a.example:443#0' }] }, option: 'endpoints[1].name' },
      { name: 'headers an array', options: bad({ url: URL_A, headers: [['X-Key', 'v']] }), option: 'endpoints[0].headers' },
      { name: 'headers a string', options: bad({ url: URL_A, headers: 'X-Key: v' }), option: 'endpoints[0].headers' },
      { name: 'header name with a space', options: bad({ url: URL_A, headers: { 'X Key': 'v' } }), option: 'endpoints[0].headers' },
      { name: 'header name with a colon', options: bad({ url: URL_A, headers: { 'X-Key:': 'v' } }), option: 'endpoints[0].headers' },
      { name: 'empty header name', options: bad({ url: URL_A, headers: { '': 'v' } }), option: 'endpoints[0].headers' },
      { name: 'empty header value', options: bad({ url: URL_A, headers: { 'X-Key': '' } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'blank header value', options: bad({ url: URL_A, headers: { 'X-Key': '   ' } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'header value not a string', options: bad({ url: URL_A, headers: { 'X-Key': 5 } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'header value null', options: bad({ url: URL_A, headers: { 'X-Key': null } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'header value with a newline', options: bad({ url: URL_A, headers: { 'X-Key': 'abc\nX-Injected: 1' } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'header value with a CR', options: bad({ url: URL_A, headers: { 'X-Key': 'abc\r' } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'header value with NUL', options: bad({ url: URL_A, headers: { 'X-Key': 'a\0b' } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'header value non-ASCII', options: bad({ url: URL_A, headers: { 'X-Key': 'clé' } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'header value with leading whitespace', options: bad({ url: URL_A, headers: { 'X-Key': ' abc' } }), option: 'endpoints[0].headers.X-Key' },
      { name: 'Authorization without a scheme', options: bad({ url: URL_A, headers: { Authorization: 'abc123' } }), option: 'endpoints[0].headers.Authorization' },
      { name: 'Authorization scheme only', options: bad({ url: URL_A, headers: { Authorization: 'Bearer' } }), option: 'endpoints[0].headers.Authorization' },
      { name: 'Authorization with trailing space', options: bad({ url: URL_A, headers: { Authorization: 'Bearer ' } }), option: 'endpoints[0].headers.Authorization' },
      { name: 'authorization (lower case) without a scheme', options: bad({ url: URL_A, headers: { authorization: 'tok' } }), option: 'endpoints[0].headers.authorization' },
      { name: 'Authorization "Bearer:token"', options: bad({ url: URL_A, headers: { Authorization: 'Bearer:tok' } }), option: 'endpoints[0].headers.Authorization' },
      { name: 'negative defaultTimeout', options: { endpoints: [URL_A], defaultTimeout: -1 }, option: 'defaultTimeout' },
      { name: 'zero defaultTimeout', options: { endpoints: [URL_A], defaultTimeout: 0 }, option: 'defaultTimeout' },
      { name: 'NaN defaultTimeout', options: { endpoints: [URL_A], defaultTimeout: Number.NaN }, option: 'defaultTimeout' },
      { name: 'string defaultTimeout', options: { endpoints: [URL_A], defaultTimeout: '1000' }, option: 'defaultTimeout' },
      { name: 'negative attemptTimeout', options: { endpoints: [URL_A], attemptTimeout: -5 }, option: 'attemptTimeout' },
      { name: 'zero attemptTimeout', options: { endpoints: [URL_A], attemptTimeout: 0 }, option: 'attemptTimeout' },
      { name: 'non-integer retries', options: { endpoints: [URL_A], retries: 1.5 }, option: 'retries' },
      { name: 'negative retries', options: { endpoints: [URL_A], retries: -1 }, option: 'retries' },
      { name: 'infinite retries', options: { endpoints: [URL_A], retries: Number.POSITIVE_INFINITY }, option: 'retries' },
      { name: 'jitter > 1', options: { endpoints: [URL_A], backoff: { jitter: 1.5 } }, option: 'backoff.jitter' },
      { name: 'jitter < 0', options: { endpoints: [URL_A], backoff: { jitter: -0.1 } }, option: 'backoff.jitter' },
      { name: 'jitter NaN', options: { endpoints: [URL_A], backoff: { jitter: Number.NaN } }, option: 'backoff.jitter' },
      { name: 'backoff factor 0', options: { endpoints: [URL_A], backoff: { factor: 0 } }, option: 'backoff.factor' },
      { name: 'negative backoff initial', options: { endpoints: [URL_A], backoff: { initial: -1 } }, option: 'backoff.initial' },
      { name: 'negative backoff max', options: { endpoints: [URL_A], backoff: { max: -1 } }, option: 'backoff.max' },
      { name: 'breaker percentage > 100', options: { endpoints: [URL_A], breaker: { errorThresholdPercentage: 101 } }, option: 'breaker.errorThresholdPercentage' },
      { name: 'breaker volumeThreshold 1.5', options: { endpoints: [URL_A], breaker: { volumeThreshold: 1.5 } }, option: 'breaker.volumeThreshold' },
      { name: 'breaker rollingWindow 0', options: { endpoints: [URL_A], breaker: { rollingWindow: 0 } }, option: 'breaker.rollingWindow' },
      { name: 'breaker resetTimeout -1', options: { endpoints: [URL_A], breaker: { resetTimeout: -1 } }, option: 'breaker.resetTimeout' },
      { name: 'negative rateLimitCooldown', options: { endpoints: [URL_A], rateLimitCooldown: -1 }, option: 'rateLimitCooldown' },
      { name: 'NaN maxRetryAfter', options: { endpoints: [URL_A], maxRetryAfter: Number.NaN }, option: 'maxRetryAfter' },
      { name: 'negative unauthorizedCooldown', options: { endpoints: [URL_A], unauthorizedCooldown: -1 }, option: 'unauthorizedCooldown' },
      { name: 'heartbeat true', options: { endpoints: [URL_A], heartbeat: true }, option: 'heartbeat', message: /expected an object or false/ },
      { name: 'heartbeat null', options: { endpoints: [URL_A], heartbeat: null }, option: 'heartbeat' },
      { name: 'heartbeat a number', options: { endpoints: [URL_A], heartbeat: 2_000 }, option: 'heartbeat' },
      { name: 'heartbeat a string', options: { endpoints: [URL_A], heartbeat: 'off' }, option: 'heartbeat' },
      { name: 'heartbeat interval 0', options: { endpoints: [URL_A], heartbeat: { interval: 0 } }, option: 'heartbeat.interval' },
      { name: 'heartbeat interval -1', options: { endpoints: [URL_A], heartbeat: { interval: -1 } }, option: 'heartbeat.interval' },
      { name: 'heartbeat interval NaN', options: { endpoints: [URL_A], heartbeat: { interval: Number.NaN } }, option: 'heartbeat.interval' },
      { name: 'heartbeat interval Infinity', options: { endpoints: [URL_A], heartbeat: { interval: Infinity } }, option: 'heartbeat.interval' },
      { name: 'heartbeat interval a string', options: { endpoints: [URL_A], heartbeat: { interval: '2000' } }, option: 'heartbeat.interval' },
      { name: 'heartbeat chainCheckInterval 0', options: { endpoints: [URL_A], heartbeat: { chainCheckInterval: 0 } }, option: 'heartbeat.chainCheckInterval' },
      { name: 'heartbeat chainCheckInterval a string', options: { endpoints: [URL_A], heartbeat: { chainCheckInterval: '60s' } }, option: 'heartbeat.chainCheckInterval' },
      { name: 'heartbeat timeout 0', options: { endpoints: [URL_A], heartbeat: { timeout: 0 } }, option: 'heartbeat.timeout' },
      { name: 'heartbeat timeout -1', options: { endpoints: [URL_A], heartbeat: { timeout: -1 } }, option: 'heartbeat.timeout' },
      { name: 'heartbeat failuresToDown 0', options: { endpoints: [URL_A], heartbeat: { failuresToDown: 0 } }, option: 'heartbeat.failuresToDown', message: />= 1/ },
      { name: 'heartbeat failuresToDown 1.5', options: { endpoints: [URL_A], heartbeat: { failuresToDown: 1.5 } }, option: 'heartbeat.failuresToDown' },
      { name: 'heartbeat failuresToDown -1', options: { endpoints: [URL_A], heartbeat: { failuresToDown: -1 } }, option: 'heartbeat.failuresToDown' },
      { name: 'heartbeat jitter 1.5', options: { endpoints: [URL_A], heartbeat: { jitter: 1.5 } }, option: 'heartbeat.jitter' },
      { name: 'heartbeat jitter -0.1', options: { endpoints: [URL_A], heartbeat: { jitter: -0.1 } }, option: 'heartbeat.jitter' },
      { name: 'heartbeat jitter NaN', options: { endpoints: [URL_A], heartbeat: { jitter: Number.NaN } }, option: 'heartbeat.jitter' },
      { name: 'heartbeat unref a string', options: { endpoints: [URL_A], heartbeat: { unref: 'yes' } }, option: 'heartbeat.unref' },
      { name: 'heartbeat unref 1', options: { endpoints: [URL_A], heartbeat: { unref: 1 } }, option: 'heartbeat.unref' },
      { name: 'chainId 0', options: { endpoints: [URL_A], chainId: 0 }, option: 'chainId', message: /> 0, got 0/ },
      { name: 'chainId 0n', options: { endpoints: [URL_A], chainId: 0n }, option: 'chainId' },
      { name: 'chainId -1', options: { endpoints: [URL_A], chainId: -1 }, option: 'chainId' },
      { name: 'chainId -1n', options: { endpoints: [URL_A], chainId: -1n }, option: 'chainId' },
      { name: 'chainId 1.5', options: { endpoints: [URL_A], chainId: 1.5 }, option: 'chainId' },
      { name: 'chainId NaN', options: { endpoints: [URL_A], chainId: Number.NaN }, option: 'chainId' },
      { name: 'chainId a string', options: { endpoints: [URL_A], chainId: '1' }, option: 'chainId' },
      { name: 'maxLag -1', options: { endpoints: [URL_A], maxLag: -1 }, option: 'maxLag', message: />= 0, got -1/ },
      { name: 'maxLag -1n', options: { endpoints: [URL_A], maxLag: -1n }, option: 'maxLag' },
      { name: 'maxLag 1.5', options: { endpoints: [URL_A], maxLag: 1.5 }, option: 'maxLag' },
      { name: 'maxLag Infinity', options: { endpoints: [URL_A], maxLag: Infinity }, option: 'maxLag' },
      { name: 'maxLag a string', options: { endpoints: [URL_A], maxLag: '5' }, option: 'maxLag' },
      { name: 'random not a function', options: { endpoints: [URL_A], random: 0.5 }, option: 'random' },
      { name: 'clock without now', options: { endpoints: [URL_A], clock: { setTimeout, clearTimeout } }, option: 'clock.now' },
      { name: 'clock without clearTimeout', options: { endpoints: [URL_A], clock: { now: Date.now, setTimeout } }, option: 'clock.clearTimeout' },
      { name: 'fetch not a function', options: { endpoints: [URL_A], fetch: 'node-fetch' }, option: 'fetch' },
      { name: 'maxResponseBytes 0', options: { endpoints: [URL_A], maxResponseBytes: 0 }, option: 'maxResponseBytes', message: />= 1/ },
      { name: 'maxResponseBytes 1.5', options: { endpoints: [URL_A], maxResponseBytes: 1.5 }, option: 'maxResponseBytes' },
      { name: 'maxSockets 0', options: { endpoints: [URL_A], maxSockets: 0 }, option: 'maxSockets', message: />= 1/ },
    ] as Array<{ name: string; options: unknown; option: string; message?: RegExp }>)('$name → $option', ({ options, option, message }) => {
      const e = rejection(options)
      expect(e.option).toBe(option)
      expect(e.message).toContain(`\`${option}\``)
      if (message) expect(e.message).toMatch(message)
    })

    it('names the first bad endpoint', () => {
      expect(rejection({ endpoints: [URL_A, { url: URL_B, weight: 0 }, 'ftp://c.example'] }).option).toBe('endpoints[1].weight')
    })
  })

  describe('secrets never appear in errors', () => {
    const SECRET = 'SECRETKEY'
    it.each([
      { name: 'ftp URL, key in path', endpoint: `ftp://a.example/v3/${SECRET}` },
      { name: 'ftp URL, key in query', endpoint: `ftp://a.example/rpc?apikey=${SECRET}` },
      { name: 'ftp URL, key in userinfo', endpoint: `ftp://user:${SECRET}@a.example/` },
      { name: 'wss URL, key in path, bad weight', endpoint: { url: `wss://mainnet.example/ws/v3/${SECRET}`, weight: -1 } },
      { name: 'ws URL, key in userinfo, bad tier', endpoint: { url: `ws://${SECRET}@a.example/`, tier: 'x' } },
      { name: 'unparseable URL, key in path', endpoint: `https://a.example:99999/v3/${SECRET}` },
      { name: 'unparseable URL, key in query', endpoint: `https://a.example:port/?key=${SECRET}` },
      { name: 'URL without a scheme, key in path', endpoint: `mainnet.example/v3/${SECRET}` },
      { name: 'unparseable URL, key in userinfo', endpoint: `https://user:${SECRET}@/rpc` },
      { name: 'bad weight, key in the URL', endpoint: { url: `https://u:${SECRET}@a.example/v3/${SECRET}?k=${SECRET}`, weight: 0 } },
      { name: 'bad tier, key in the URL', endpoint: { url: `https://a.example/v3/${SECRET}`, tier: 'main' } },
      { name: 'empty name, key in the URL', endpoint: { url: `https://a.example/v3/${SECRET}`, name: '' } },
      { name: 'Authorization without a scheme', endpoint: { url: URL_A, headers: { Authorization: SECRET } } },
      { name: 'Authorization with a newline', endpoint: { url: URL_A, headers: { Authorization: `Bearer ${SECRET}\n` } } },
      { name: 'Authorization with leading whitespace', endpoint: { url: URL_A, headers: { Authorization: ` Bearer ${SECRET}` } } },
      { name: 'Authorization "Bearer:key"', endpoint: { url: URL_A, headers: { Authorization: `Bearer:${SECRET}` } } },
      { name: 'API-key header with CRLF', endpoint: { url: URL_A, headers: { 'X-Api-Key': `${SECRET}\r\nX-Evil: 1` } } },
      { name: 'API-key header non-ASCII', endpoint: { url: URL_A, headers: { 'X-Api-Key': `${SECRET}€` } } },
      { name: 'API-key header trailing space', endpoint: { url: URL_A, headers: { 'X-Api-Key': `${SECRET} ` } } },
      { name: 'bad header name next to a secret value', endpoint: { url: `https://a.example/${SECRET}`, headers: { 'X Key': SECRET } } },
    ])('$name', ({ endpoint }) => {
      const e = rejection({ endpoints: [endpoint] })
      expect(e.message).not.toContain(SECRET)
      expect(e.shortMessage).not.toContain(SECRET)
      // Nothing reachable from the error (cause, fields) holds the secret either.
      expect(inspect(e, { depth: 10, showHidden: true })).not.toContain(SECRET)
    })

    it('duplicate names, keys in the URLs', () => {
      const e = rejection({ endpoints: [{ url: `https://a.example/${SECRET}`, name: 'n' }, { url: `https://u:${SECRET}@b.example/?k=${SECRET}`, name: 'n' }] })
      expect(inspect(e, { depth: 10, showHidden: true })).not.toContain(SECRET)
    })

    it('invalid strategy and timeout, keys in the URLs', () => {
      const endpoints = [`https://user:${SECRET}@a.example/v3/${SECRET}?apikey=${SECRET}`]
      for (const options of [{ endpoints, strategy: 'fastest' }, { endpoints, defaultTimeout: -1 }, { endpoints, retries: 0.5 }]) {
        expect(inspect(rejection(options), { depth: 10, showHidden: true })).not.toContain(SECRET)
      }
    })

    it('ids of resolved endpoints never hold path, query or userinfo', () => {
      const r = resolvePoolOptions({ endpoints: [`https://user:${SECRET}@a.example/v3/${SECRET}?apikey=${SECRET}`, `http://${SECRET}@b.example:8545/${SECRET}`] })
      expect(r.endpoints.map((e) => e.id)).toEqual(['https://a.example:443#0', 'http://b.example:8545#1'])
      for (const e of r.endpoints) expect(e.url).not.toContain('@')
    })
  })
})

describe('edge cases found in review', () => {
  it.each([
    { name: 'malformed percent-escape in the password', url: 'https://user:pa%ZZss@a.example/' },
  ])('userinfo with $name throws InvalidOptionError', ({ url }) => {
    let error: unknown
    try {
      resolvePoolOptions({ endpoints: [url] })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect((error as InvalidOptionError).option).toBe('endpoints[0].url')
  })

  it('a non-Latin-1 password is sent as UTF-8 Basic credentials', () => {
    const r = resolvePoolOptions({ endpoints: ['https://user:пароль@a.example/'] })
    const encoded = r.endpoints[0]!.headers.Authorization!.replace('Basic ', '')
    expect(new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)))).toBe('user:пароль')
  })

  it('an explicitly undefined nested backoff/breaker/heartbeat field keeps its default', () => {
    const r = resolvePoolOptions({ endpoints: ['https://a.example/'], backoff: { initial: undefined, max: undefined, factor: undefined, jitter: undefined } })
    expect(r.backoff).toEqual(DEFAULT_BACKOFF)
    const b = resolvePoolOptions({ endpoints: ['https://a.example/'], breaker: { errorThresholdPercentage: undefined, volumeThreshold: undefined, rollingWindow: undefined, resetTimeout: undefined } })
    expect(b.breaker).toEqual(DEFAULT_BREAKER)
    const h = resolvePoolOptions({ endpoints: ['https://a.example/'], heartbeat: { interval: undefined, timeout: undefined, failuresToDown: undefined, jitter: undefined, unref: undefined } })
    expect(h.heartbeat).toEqual(DEFAULT_HEARTBEAT)
  })

  it.each([{ defaultTimeout: 2 ** 31 }, { attemptTimeout: 2 ** 31 }, { breaker: { resetTimeout: 2 ** 31 } }, { breaker: { resetTimeout: Infinity } }])(
    "a duration beyond setTimeout's 2^31-1 ms limit is rejected: %j",
    (options) => {
      expect(() => resolvePoolOptions({ endpoints: ['https://a.example/'], ...options } as PoolOptions)).toThrow(InvalidOptionError)
    },
  )

  it('Infinity is accepted for the request deadline', () => {
    expect(resolvePoolOptions({ endpoints: ['https://a.example/'], defaultTimeout: Infinity }).defaultTimeout).toBe(Infinity)
  })

  it('an invalid header name is not echoed (it is often a pasted "Name: secret" line)', () => {
    let error: unknown
    try {
      resolvePoolOptions({ endpoints: [{ url: 'https://a.example/', headers: { 'Authorization: Bearer SECRETKEY': 'x' } }] })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect((error as Error).message).not.toContain('SECRETKEY')
  })
})

describe('options checked by name', () => {
  const E = ['https://a.example/']
  const message = (options: object) => {
    try {
      resolvePoolOptions({ endpoints: E, ...options } as PoolOptions)
    } catch (error) {
      return isResilientRpcError(error, 'INVALID_OPTION') ? `${error.option}: ${error.shortMessage}` : String(error)
    }
    return 'accepted'
  }

  it.each([
    [{ retrys: 2 }, 'retrys: Invalid option `retrys`: unknown option; did you mean `retries`?'],
    [{ defaultTimout: 5 }, 'defaultTimout: Invalid option `defaultTimout`: unknown option; did you mean `defaultTimeout`?'],
    [{ attempttimeout: 5 }, 'attempttimeout: Invalid option `attempttimeout`: unknown option; did you mean `attemptTimeout`?'],
    [{ heartbeat: { intervl: 1_000 } }, 'heartbeat.intervl: Invalid option `heartbeat.intervl`: unknown option; did you mean `interval`?'],
    [{ breaker: { resetTimout: 1 } }, 'breaker.resetTimout: Invalid option `breaker.resetTimout`: unknown option; did you mean `resetTimeout`?'],
    [{ backoff: { jiter: 0.1 } }, 'backoff.jiter: Invalid option `backoff.jiter`: unknown option; did you mean `jitter`?'],
    [{ hedge: { dealy: 5 } }, 'hedge.dealy: Invalid option `hedge.dealy`: unknown option; did you mean `delay`?'],
    [{ webSocket: { keepalive: { intervall: 5 } } }, 'webSocket.keepalive.intervall: Invalid option `webSocket.keepalive.intervall`: unknown option; did you mean `interval`?'],
    [{ webSocket: { reconect: {} } }, 'webSocket.reconect: Invalid option `webSocket.reconect`: unknown option; did you mean `reconnect`?'],
    [{ logRateLimit: { maxx: 1 } }, 'logRateLimit.maxx: Invalid option `logRateLimit.maxx`: unknown option; did you mean `max`?'],
    [{ frobnicate: true }, expect.stringMatching(/^frobnicate: Invalid option `frobnicate`: unknown option \(the options are endpoints, strategy, .*maxSockets\)$/)],
  ])('%j → %s', (options, expected) => {
    expect(message(options)).toEqual(expected)
  })

  it('names the endpoint and its rate limit by index', () => {
    expect(message({ endpoints: ['https://a.example/', { url: 'https://b.example/', wieght: 2 }] })).toBe('endpoints[1].wieght: Invalid option `endpoints[1].wieght`: unknown option; did you mean `weight`?')
    expect(message({ endpoints: [{ url: 'https://b.example/', rateLimit: { perSecnd: 2 } }] })).toBe('endpoints[0].rateLimit.perSecnd: Invalid option `endpoints[0].rateLimit.perSecnd`: unknown option; did you mean `perSecond`?')
  })

  it('a key whose value is undefined counts as absent', () => {
    expect(message({ retrys: undefined, heartbeat: { intervl: undefined } })).toBe('accepted')
  })
})
