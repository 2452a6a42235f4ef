import { describe, expect, it, vi } from 'vitest'
import type { Pool } from '../../src/index.js'
import { start } from '../support/async.js'
import type { FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// A hung endpoint learned from the requests it swallows (src/pool/attempt.ts → HealthMonitor.unresponsive):
// an attempt that timed out while the endpoint answered nothing since it went out counts as a failed
// ping. Heartbeats a minute apart, so only attempts can tell.

const { fake, makePool } = useFakePool({
  endpoints: ['http://a'],
  random: () => 0.5,
  hedge: false,
  dedupe: false,
  retries: 0,
  attemptTimeout: 1_000,
  heartbeat: { interval: 60_000, timeout: 500, failuresToDown: 2 },
})

const node = (call: FetchCall) => {
  if (call.method === 'eth_chainId') return { kind: 'ok' as const, result: '0x1' }
  if (call.method === 'eth_blockNumber') return { kind: 'ok' as const, result: '0x64' }
  return { kind: 'ok' as const, result: '0x0' }
}
const statuses = (p: Pool) => p.stats().endpoints.map((e) => e.status)

/** `a` up after its first heartbeat; then it hangs on everything. */
async function aHangs(): Promise<Pool> {
  fake.set('a', node)
  const p = makePool()
  await vi.advanceTimersByTimeAsync(50)
  expect(statuses(p)).toEqual(['up'])
  fake.set('a', { kind: 'hang' })
  return p
}

/** One balance read, timed out by `a`. */
async function timeOutOnA(p: Pool): Promise<void> {
  const request = start(p.request('eth_getBalance', ['0x1', 'latest'], { timeout: 5_000 }))
  await vi.advanceTimersByTimeAsync(1_000)
  await request.done
  expect(request.outcome.error).toMatchObject({ code: 'TIMEOUT' })
}

describe('an endpoint that swallows requests', () => {
  it('is down after failuresToDown attempts timed out with no answer from it since, without waiting for its heartbeats', async () => {
    const p = await aHangs()
    const downs: string[] = []
    p.on('endpoint:state', (e) => e.to === 'down' && downs.push(e.endpoint))
    await timeOutOnA(p)
    expect(statuses(p)).toEqual(['up'])
    await timeOutOnA(p)
    expect(statuses(p)).toEqual(['down'])
    expect(downs).toEqual(['http://a:80#0'])
    expect(p.stats().endpoints[0]!.lastError).toMatchObject({ code: 'TIMEOUT' })
  })

  it('is not judged by a timeout when it answered something after that attempt went out (a slow call, not a dead node)', async () => {
    const p = await aHangs()
    // eth_getBalance hangs on a; anything else it answers.
    fake.set('a', (call) => (call.method === 'eth_getBalance' ? { kind: 'hang' } : node(call)))
    const changes: string[] = []
    p.on('endpoint:state', (e) => changes.push(`${e.from} → ${e.to}`))
    for (let i = 0; i < 3; i++) {
      const slow = start(p.request('eth_getBalance', ['0x1', 'latest'], { timeout: 5_000 }))
      await vi.advanceTimersByTimeAsync(10)
      // While it waits, a answers another request.
      await expect(p.request('eth_blockNumber')).resolves.toBe('0x64')
      await vi.advanceTimersByTimeAsync(990)
      await slow.done
      expect(slow.outcome.error).toMatchObject({ code: 'TIMEOUT' })
    }
    expect(changes).toEqual([])
  })
})
