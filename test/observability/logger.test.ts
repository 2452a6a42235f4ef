import { EventEmitter } from 'eventemitter3'
import { describe, expect, it, vi } from 'vitest'
import { createPool, NetworkError, RpcResponseError, type PoolEvents } from '../../src/index.js'
import { attachLogger } from '../../src/observability/logger.js'
import { redactText } from '../../src/util/secrets.js'
import type { Logger } from '../../src/config/observabilityOptions.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// The logger as a subscriber of pool events: levels, redaction and the per-kind rate limit.

type Line = { level: string; obj: Record<string, unknown>; msg: string }

function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = []
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg })
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

const { fake, makePool } = useFakePool({})

const node = (call: FetchCall): Behaviour => (call.method === 'eth_chainId' ? { kind: 'ok', result: '0x1' } : { kind: 'ok', result: '0x64' })

describe('logger', () => {
  it('is silent without a logger and logs nothing for a healthy request path with one', async () => {
    fake.set('a', node)
    const { logger, lines } = capture()
    const pool = makePool({ endpoints: ['http://a'], heartbeat: false, logger })
    await pool.request('eth_blockNumber')
    expect(lines).toEqual([])
  })

  it('logs state transitions with redacted endpoints: never the URL path, headers or an error cause', async () => {
    fake.set('a', node)
    fake.set('b', node)
    const { logger, lines } = capture()
    // Errors that quote the URL, as some fetch implementations and upstreams do.
    const leaky: typeof fetch = (input, init) =>
      String(input).includes('//a') && failing ? Promise.reject(new TypeError(`fetch ${String(input)} failed`)) : fake.fetch(input, init)
    let failing = false
    const pool = makePool({
      endpoints: [{ url: 'http://a/v3/SECRETKEY', headers: { Authorization: 'Bearer SECRETTOKEN' } }, 'http://b/?apikey=SECRETKEY'],
      fetch: leaky,
      random: () => 0.5,
      heartbeat: { interval: 1_000, timeout: 500, failuresToDown: 2 },
      retries: 0,
      logger,
    })
    await vi.advanceTimersByTimeAsync(50)
    expect(lines.filter((l) => l.msg === 'endpoint up').map((l) => l.obj.endpoint)).toEqual(['http://a:80#0', 'http://b:80#1'])
    expect(lines.filter((l) => l.msg === 'pool ready')).toHaveLength(1)
    failing = true
    fake.set('b', { kind: 'rpcError', code: -32000, message: 'upstream http://b/?apikey=SECRETKEY refused' })
    await expect(pool.request('eth_getBalance', ['0x0000000000000000000000000000000000000000', 'latest'])).rejects.toBeDefined()
    await vi.advanceTimersByTimeAsync(3_000)
    const down = lines.find((l) => l.msg === 'endpoint down')
    expect(down).toMatchObject({ level: 'warn', obj: { event: 'endpoint:state', endpoint: 'http://a:80#0', to: 'down', reason: { code: 'NETWORK' } } })
    expect(lines.find((l) => l.msg === 'request failed')).toMatchObject({ level: 'warn', obj: { method: 'eth_getBalance' } })
    const text = JSON.stringify(lines)
    expect(text).not.toContain('SECRET')
    expect(text).not.toContain('/v3/')
    expect(text).toContain('[url]')
  })

  it('rate-limits each kind per endpoint and reports how many it suppressed', () => {
    let now = 0
    const clock = { now: () => now, setTimeout: () => { throw new Error('no timers') }, clearTimeout: () => {} }
    const emitter = new EventEmitter<PoolEvents>()
    const { logger, lines } = capture()
    const detach = attachLogger(emitter, logger, { max: 3, interval: 10_000, clock: clock as never })
    for (let i = 0; i < 8; i++) emitter.emit('circuit:open', { endpoint: 'A' })
    emitter.emit('circuit:open', { endpoint: 'B' })
    expect(lines.map((l) => `${l.obj.endpoint}`)).toEqual(['A', 'A', 'A', 'B'])
    now = 9_999
    emitter.emit('circuit:open', { endpoint: 'A' })
    expect(lines).toHaveLength(4)
    now = 10_000
    emitter.emit('circuit:open', { endpoint: 'A' })
    expect(lines.at(-1)).toMatchObject({ level: 'warn', msg: 'circuit open', obj: { endpoint: 'A', suppressed: 6 } })
    emitter.emit('circuit:open', { endpoint: 'A' })
    expect(lines.at(-1)!.obj.suppressed).toBeUndefined()
    detach()
    emitter.emit('circuit:open', { endpoint: 'C' })
    expect(lines).toHaveLength(6)
    expect(emitter.listenerCount('circuit:open')).toBe(0)
  })

  it('describes reorgs and errors as plain data, and a throwing logger breaks nothing', () => {
    const emitter = new EventEmitter<PoolEvents>()
    const { logger, lines } = capture()
    attachLogger(emitter, logger)
    emitter.emit('chain:reorg', { from: 10n, to: 8n })
    emitter.emit('request:retry', { method: 'eth_call', attempt: 1, endpoint: 'A', error: new NetworkError({ endpoint: 'A', cause: new Error('https://x/SECRET') }), delay: 0 })
    emitter.emit('request:error', { method: 'eth_call', error: new RpcResponseError({ code: -32000, message: 'see wss://x/SECRET' }) })
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'chain reorg'],
      ['debug', 'request retry'],
      ['warn', 'request failed'],
    ])
    expect(lines[0]!.obj).toMatchObject({ from: '10', to: '8' })
    expect(JSON.stringify(lines)).not.toContain('SECRET')
    const broken = attachLogger(new EventEmitter<PoolEvents>(), { ...logger, warn: () => { throw new Error('disk full') } })
    expect(typeof broken).toBe('function')
    const e2 = new EventEmitter<PoolEvents>()
    attachLogger(e2, { ...logger, warn: () => { throw new Error('disk full') } })
    expect(() => e2.emit('circuit:open', { endpoint: 'A' })).not.toThrow()
  })

  it('redacts URLs in free text', () => {
    expect(redactText('failed: https://mainnet.example/v3/KEY?x=1 and ws://h:1/p')).toBe('failed: [url] and [url]')
  })

  it('rejects a logger without the four methods', () => {
    expect(() => createPool({ endpoints: ['http://a'], logger: { info() {} } as never })).toThrow(/logger\.debug/)
  })

  it('checks its rate limit like every option', () => {
    const pool = new EventEmitter<PoolEvents>()
    const { logger } = capture()
    expect(() => attachLogger(pool, logger, { max: 0 })).toThrow('Invalid option `logRateLimit.max`: expected an integer >= 1, got 0')
    expect(() => attachLogger(pool, logger, { interval: Number.NaN })).toThrow('Invalid option `logRateLimit.interval`: expected a duration in ms > 0 and <= 2147483647 (or Infinity), got NaN')
    attachLogger(pool, logger, { max: 1, interval: Infinity })()
    expect(pool.eventNames()).toEqual([])
  })
})
