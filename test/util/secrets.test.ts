import { describe, expect, it } from 'vitest'
import { createPool, isResilientRpcError, type ResilientRpcError } from '../../src/index.js'
import { createScrubber, scrubError, secretsOf } from '../../src/util/secrets.js'
import { createFakeFetch } from '../support/fakeFetch.js'

describe('secretsOf', () => {
  it('takes userinfo, long path segments, query values and header credentials', () => {
    const secrets = secretsOf('https://alice:hunter22@rpc.example/v3/0123456789abcdef?apikey=QKEY1234&x=1', {
      Authorization: 'Bearer TOKEN-42-abc',
      'x-api-key': 'HDRKEY99',
    })
    for (const s of ['alice', 'hunter22', '0123456789abcdef', 'QKEY1234', 'Bearer TOKEN-42-abc', 'TOKEN-42-abc', 'HDRKEY99']) expect(secrets).toContain(s)
    // words of the path and one-character values are not keys; replacing them would mangle messages
    expect(secrets).not.toContain('v3')
    expect(secrets).not.toContain('1')
  })

  it('decodes Basic credentials and percent-escapes', () => {
    const secrets = secretsOf('https://rpc.example/path%2Fwith%20space-key', { Authorization: `Basic ${btoa('user1:p4ss:word')}` })
    expect(secrets).toContain('user1')
    expect(secrets).toContain('p4ss:word')
    expect(secrets).toContain('path/with space-key')
  })

  it('lists the longest first, so a secret containing another is replaced whole', () => {
    const scrub = createScrubber(secretsOf('https://rpc.example/?a=abcd&b=abcdefgh'))!
    expect(scrub('key abcdefgh and abcd')).toBe('key [redacted] and [redacted]')
  })

  it('has nothing to hide for a bare URL', () => {
    expect(createScrubber(secretsOf('http://127.0.0.1:8545'))).toBeUndefined()
  })
})

describe('scrubError', () => {
  it('cleans message, stack, details, causes and listed attempts but keeps hex data byte-exact', () => {
    const scrub = createScrubber(['SECRETKEY1'])!
    const cause = new SyntaxError('Unexpected token in "SECRETKEY1"')
    const inner = Object.assign(new Error('bad SECRETKEY1'), { data: 'echo SECRETKEY1' })
    const error = Object.assign(new Error('node said SECRETKEY1', { cause }), {
      details: 'body starts with SECRETKEY1',
      data: '0xSECRETKEY1'.replace('SECRETKEY1', 'deadbeef'),
      attempts: [{ endpoint: 'x', error: inner, duration: 1 }],
    })
    scrubError(error, scrub)
    const all = JSON.stringify([error.message, error.stack, error.details, cause.message, cause.stack, inner.message, inner.data])
    expect(all).not.toContain('SECRETKEY1')
    expect(error.message).toBe('node said [redacted]')
    expect(error.data).toBe('0xdeadbeef')
  })

  it('cleans the strings of an object `data` (which toJSON writes out), keeping its hex', () => {
    const scrub = createScrubber(['SECRETKEY1'])!
    const error = Object.assign(new Error('rejected'), { data: { message: 'key SECRETKEY1 unknown', hints: ['see /v3/SECRETKEY1'], data: '0xdeadbeef' } })
    scrubError(error, scrub)
    expect(error.data).toEqual({ message: 'key [redacted] unknown', hints: ['see /v3/[redacted]'], data: '0xdeadbeef' })
  })
})

describe('a pool whose node echoes the key', () => {
  const KEY = '9f8e7d6c5b4a39281706'
  const urls = [`http://a/v3/${KEY}`, `http://b/rpc?apikey=${KEY}`]

  it('never hands the key out in errors, events or stats', async () => {
    const fake = createFakeFetch({
      a: { kind: 'rpcError', code: -32001, message: `invalid project id ${KEY}` },
      b: { kind: 'body', body: `<html>Cannot POST /rpc?apikey=${KEY}</html>` },
    })
    const pool = createPool({ endpoints: urls, fetch: fake.fetch, heartbeat: false, hedge: false, dedupe: false, retries: 1 })
    const seen: unknown[] = []
    pool.on('request:retry', (e) => seen.push(e))
    pool.on('request:error', (e) => seen.push(e))
    try {
      const error = await pool.request('eth_blockNumber').then(
        () => undefined,
        (e: unknown) => e as ResilientRpcError,
      )
      expect(isResilientRpcError(error)).toBe(true)
      const text = [error!.message, error!.stack, ...error!.attempts.flatMap((a) => [a.error.message, a.error.stack, String((a.error.cause as Error | undefined)?.message)])].join('\n')
      // the node's words are kept, only the key is gone
      expect(text).toContain('invalid project id [redacted]')
      expect(text).toContain('[redacted]')
      expect(text).not.toContain(KEY)
      expect(seen.length).toBeGreaterThan(0)
      const dump = JSON.stringify({ seen, stats: pool.stats() }, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? { message: v.message, stack: v.stack } : v))
      expect(dump).not.toContain(KEY)
    } finally {
      await pool.destroy()
    }
  })
})
