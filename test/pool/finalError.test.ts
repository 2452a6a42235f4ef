import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError, type ResilientRpcError } from '../../src/index.js'
import { start } from '../support/async.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// The error a request ends with accounts for every endpoint: the ones it tried in `attempts`, each
// with its cause, and the ones it never tried because they were out in `excluded`, each with why.
// A scripted fetch and fake timers; heartbeats on, so that endpoints go down as they would.

const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b', 'http://c'], chainId: 1n, random: () => 0, hedge: false, dedupe: false })

/** A node on chain 1 at head 16 whose answer to everything else is `other`. */
const node = (other: Behaviour) => (c: FetchCall): Behaviour => {
  if (c.method === 'eth_chainId') return { kind: 'ok', result: '0x1' }
  if (c.method === 'eth_blockNumber') return { kind: 'ok', result: '0x10' }
  return other
}

/** A pool whose a serves `other` while b and c refuse connections (the fake's default) and have gone down. */
async function poolWithTwoDown(other: Behaviour, options: Parameters<typeof makePool>[0] = {}) {
  fake.set('a', node(other))
  const pool = makePool(options)
  await vi.advanceTimersByTimeAsync(10_000)
  expect(pool.stats().endpoints.map((e) => e.status)).toEqual(['up', 'down', 'down'])
  return pool
}

async function failure(promise: Promise<unknown>): Promise<ResilientRpcError> {
  const { outcome, done } = start(promise)
  await vi.advanceTimersByTimeAsync(60_000)
  await done
  expect(isResilientRpcError(outcome.error), String(outcome.error)).toBe(true)
  return outcome.error as ResilientRpcError
}

const DOWN = [
  { endpoint: 'http://b:80#1', reason: 'down: Network error: connection refused (ECONNREFUSED)' },
  { endpoint: 'http://c:80#2', reason: 'down: Network error: connection refused (ECONNREFUSED)' },
]

describe('the final error lists the endpoints it did not try, and why', () => {
  it('RETRIES_EXHAUSTED after trying a while b and c were down', async () => {
    const pool = await poolWithTwoDown({ kind: 'status', status: 503 })
    const error = await failure(pool.request('eth_getBalance', ['0x0000000000000000000000000000000000000001', 'latest'], { retries: 1 }))
    expect(error).toMatchObject({ code: 'RETRIES_EXHAUSTED', excluded: DOWN })
    expect(error.attempts.map((a) => a.endpoint)).toEqual(['http://a:80#0', 'http://a:80#0'])
    expect(error.message.replace(/\(\d+ ms\)/g, '(… ms)')).toMatchInlineSnapshot(`
      "All 2 attempts failed
      Attempts:
        1. http://a:80#0 (… ms): [HTTP_ERROR] HTTP 503
        2. http://a:80#0 (… ms): [HTTP_ERROR] HTTP 503
      Endpoints not tried:
        - http://b:80#1: down: Network error: connection refused (ECONNREFUSED)
        - http://c:80#2: down: Network error: connection refused (ECONNREFUSED)"
    `)
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ excluded: DOWN, attempts: [{ error: { code: 'HTTP_ERROR', status: 503 } }, { error: { code: 'HTTP_ERROR' } }] })
  })

  it('TIMEOUT of the whole request while a hung and b and c were down', async () => {
    const pool = await poolWithTwoDown({ kind: 'hang' })
    const error = await failure(pool.request('eth_getBalance', ['0x0000000000000000000000000000000000000001', 'latest'], { timeout: 3_000, attemptTimeout: 10_000 }))
    expect(error).toMatchObject({ code: 'TIMEOUT', scope: 'request', excluded: DOWN })
    expect(error.attempts.map((a) => a.endpoint)).toEqual(['http://a:80#0'])
  })

  it('the one attempt retries allowed, failed: the error itself lists them', async () => {
    const pool = await poolWithTwoDown({ kind: 'network' })
    const error = await failure(pool.request('eth_getBalance', ['0x0000000000000000000000000000000000000001', 'latest'], { retries: 0 }))
    expect(error).toMatchObject({ code: 'NETWORK', reason: 'connection-refused', excluded: DOWN })
  })

  it('an answer (a revert) needs no other endpoint: nothing is listed', async () => {
    const pool = await poolWithTwoDown({ kind: 'rpcError', code: 3, message: 'execution reverted' })
    const error = await failure(pool.request('eth_call', [{ to: '0x0000000000000000000000000000000000000001', data: '0x' }, 'latest']))
    expect(error).toMatchObject({ code: 'RPC_ERROR', excluded: [] })
  })

  it('an endpoint it tried is in the attempts, not in the list, even when it is down by the end', async () => {
    fake.set('a', node({ kind: 'status', status: 503 }))
    fake.set('b', node({ kind: 'status', status: 502 }))
    const pool = makePool()
    await vi.advanceTimersByTimeAsync(10_000)
    const error = await failure(pool.request('eth_getBalance', ['0x0000000000000000000000000000000000000001', 'latest'], { retries: 1 }))
    expect(error).toMatchObject({ code: 'RETRIES_EXHAUSTED', excluded: [DOWN[1]] })
    expect(error.attempts.map((a) => a.endpoint).sort()).toEqual(['http://a:80#0', 'http://b:80#1'])
  })
})
