import { describe, expect, it, vi } from 'vitest'
import type { Pool, PoolEvents } from '../../src/index.js'
import { hex, useThreeNodes } from '../support/threeNodes.js'
import { start } from '../support/async.js'

// Fresh heads and the read floor (src/pool/floor.ts, src/pool/attempt.ts): heads learned from answers,
// no latest read below what the pool has already seen. Scripted nodes, fake timers; heartbeats once a
// minute, so anything learned between them comes from answers.

/** Three scripted nodes, each at its own head; `eth_call` answers the block it read (state = block). */
const { fake, heads, readyPool } = useThreeNodes({ interval: 60_000 }, (_host, call, head) => {
  if (call.method === 'eth_blockNumber') return { kind: 'ok', result: hex(head) }
  const index = call.method === 'eth_getStorageAt' ? 2 : 1
  const tag = call.params[index]
  const block = tag === undefined || tag === 'latest' || tag === 'pending' ? head : Number(tag)
  // As geth does for a block it does not have yet.
  if (block > head) return { kind: 'rpcError', code: -32000, message: 'header not found' }
  return { kind: 'ok', result: hex(block) }
})

/** Awaits a request, moving fake time on while it waits (a retry may back off). */
async function settle<T>(promise: Promise<T>): Promise<T> {
  const { outcome, done } = start(promise)
  for (let i = 0; i < 1_000 && !outcome.settled; i++) await vi.advanceTimersByTimeAsync(10)
  await done
  if ('error' in outcome && outcome.error !== undefined) throw outcome.error
  return outcome.value as T
}

/** Sends `eth_blockNumber` until every host in `hosts` has answered one. */
async function askHeads(pool: Pool, hosts: string[]) {
  for (let i = 0; i < 20 && !hosts.every((h) => fake.callsTo(h).some((c) => c.method === 'eth_blockNumber')); i++) await pool.request('eth_blockNumber')
}

describe('heads from answers', () => {
  it('moves the reference head and marks a frozen endpoint lagging from answers alone, between heartbeats', async () => {
    const pool = await readyPool()
    const states: Array<PoolEvents['endpoint:state'][0]> = []
    pool.on('endpoint:state', (e) => states.push(e))
    heads.a = heads.b = 30 // c stops syncing
    await askHeads(pool, ['a', 'b'])
    expect(pool.referenceHead()).toBe(30n)
    expect(states).toContainEqual(expect.objectContaining({ endpoint: 'c', to: 'lagging' }))
    expect(pool.stats().endpoints.find((e) => e.endpoint === 'c')?.status).toBe('lagging')
  })

  it('one endpoint claiming a higher head does not move the reference head alone', async () => {
    const pool = await readyPool()
    heads.a = 1_000
    await askHeads(pool, ['a'])
    expect(pool.referenceHead()).toBe(10n)
  })
})

describe('the read floor', () => {
  it('once the pool returned a head, no latest read is answered from an older block', async () => {
    const pool = await readyPool()
    heads.a = 14 // b and c are behind (within maxLag), and the pool does not know it yet
    await askHeads(pool, ['a'])
    expect(await pool.request('eth_blockNumber')).toBe(hex(14))
    const seen: number[] = []
    for (let i = 0; i < 30; i++) seen.push(Number(await settle(pool.request<string>('eth_call', [{ to: '0x01' }, 'latest']))))
    expect(Math.min(...seen)).toBe(14)
    // Not merely avoided: b and c were asked, at the floor's block, and said they do not have it.
    expect(fake.callsTo('b').some((c) => c.method === 'eth_call' && c.params[1] === hex(14))).toBe(true)
  })

  it('reads an endpoint known to have the floor at `latest`; pending stays pending; no block parameter is ever added', async () => {
    const pool = await readyPool()
    heads.a = heads.b = heads.c = 20
    await askHeads(pool, ['a', 'b', 'c'])
    fake.calls.length = 0
    await pool.request('eth_call', [{ to: '0x01' }, 'latest'])
    await pool.request('eth_call', [{ to: '0x01' }, 'pending'])
    await pool.request('eth_estimateGas', [{ to: '0x01' }])
    expect(fake.calls.map((c) => c.params.slice(1))).toEqual([['latest'], ['pending'], []])
  })

  it('a read with no block parameter goes only to endpoints known to have the floor', async () => {
    const pool = await readyPool()
    heads.a = 14
    await askHeads(pool, ['a'])
    await pool.request('eth_blockNumber')
    fake.calls.length = 0
    for (let i = 0; i < 6; i++) expect(Number(await settle(pool.request<string>('eth_estimateGas', [{ to: '0x01' }])))).toBe(14)
    expect(new Set(fake.calls.map((c) => c.host))).toEqual(new Set(['a']))
  })

  it('an endpoint claiming a head a majority would outvote does not raise the floor', async () => {
    const pool = await readyPool()
    heads.a = 1_000
    await askHeads(pool, ['a'])
    const answers = new Set<string>()
    for (let i = 0; i < 9; i++) answers.add(await pool.request<string>('eth_blockNumber'))
    expect(answers).toEqual(new Set([hex(10)]))
    for (let i = 0; i < 6; i++) expect(Number(await settle(pool.request<string>('eth_call', [{ to: '0x01' }, 'latest'])))).toBe(10)
  })

  it('the only endpoint with the floor serves it pinned, even once the others outvote its newer head', async () => {
    const pool = await readyPool()
    heads.a = 15 // b and c stop syncing at 10; a's 15 is within maxLag: the pool returns it
    await askHeads(pool, ['a'])
    expect(await pool.request('eth_blockNumber')).toBe(hex(15))
    heads.a = 17 // now 7 ahead of the reference head (10): b and c outvote a's head
    fake.calls.length = 0
    await askHeads(pool, ['a'])
    expect(pool.stats().endpoints.find((e) => e.endpoint === 'a')?.status).toBe('ahead')
    fake.calls.length = 0
    // a has block 15 (it showed it): asked there, after b and c said they lack it, not at its own latest.
    for (let i = 0; i < 3; i++) expect(Number(await settle(pool.request<string>('eth_call', [{ to: '0x01' }, 'latest'])))).toBe(15)
    expect(fake.callsTo('a').filter((c) => c.method === 'eth_call').map((c) => c.params[1])).toEqual([hex(15), hex(15), hex(15)])
  })

  it('eth_blockNumber through the pool never goes below the floor', async () => {
    const pool = await readyPool()
    heads.a = 14
    await askHeads(pool, ['a'])
    const answers: string[] = []
    for (let i = 0; i < 9; i++) answers.push(await pool.request<string>('eth_blockNumber'))
    expect(answers.every((a) => a === hex(14))).toBe(true)
  })
})
