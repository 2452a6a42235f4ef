import { describe, expect, it, vi } from 'vitest'
import { createMemoryOutboxStorage } from '../../src/index.js'
import { blockHash, chain, fake, hash, node, signed, useScriptedOutbox, wallet } from './scriptedOutbox.js'

// One transaction's life in the outbox (trackedTransaction.ts and the loops it runs), through
// createOutbox over the scripted chain: acceptances, mining to depth, outages, reorgs, replacement,
// refusals, the deadline.

const { currentPool, broadcasts, makeOutbox } = useScriptedOutbox()

describe('an outbox transaction', () => {
  it('queued → accepted by each endpoint → mined → confirmed, and stops broadcasting once mined', async () => {
    const { outbox, states, statuses } = makeOutbox()
    const handle = await outbox.send(signed, { confirmations: 2 })
    expect(handle).toMatchObject({ hash, from: wallet.address, nonce: 7 })
    await vi.advanceTimersByTimeAsync(0)
    expect(states.slice(0, 3)).toEqual([
      { status: 'queued' },
      { status: 'accepted', endpoints: ['http://a:80#0'], count: 1 },
      { status: 'accepted', endpoints: ['http://a:80#0', 'http://b:80#1'], count: 2 },
    ])
    chain.head = 101
    chain.minedAt = 101
    await vi.advanceTimersByTimeAsync(1_000)
    expect(handle.state).toMatchObject({ status: 'mined', blockNumber: 101n, confirmations: 1n })
    const sent = broadcasts()
    chain.head = 102
    await vi.advanceTimersByTimeAsync(1_000)
    const final = await handle.done
    expect(final).toMatchObject({ status: 'confirmed', blockNumber: 101n, confirmations: 2n, reverted: false })
    // Mined at each new depth, then confirmed.
    expect(statuses()).toEqual(['queued', 'accepted', 'accepted', 'mined', 'mined', 'confirmed'])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(broadcasts()).toBe(sent)
  })

  it('records an endpoint that accepts after the broadcast round resolved', async () => {
    fake.set('b', (call) => (call.method === 'eth_sendRawTransaction' && !chain.mempool.get('b')?.has(hash) ? (chain.mempool.set('b', new Set([hash])), { kind: 'ok', result: hash, delay: 300 }) : node(call)))
    const { outbox, states } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: ['http://a:80#0'], count: 1 })
    await vi.advanceTimersByTimeAsync(300)
    expect(states.at(-1)).toEqual({ status: 'accepted', endpoints: ['http://a:80#0', 'http://b:80#1'], count: 2 })
  })

  it('counts an acceptance through the pool\'s routing, whose endpoint is unknown, once', async () => {
    // Each endpoint fails its first broadcast, so the round's second try goes through the routing.
    const failed = new Set<string>()
    for (const host of ['a', 'b']) {
      fake.set(host, (call) => (call.method === 'eth_sendRawTransaction' && !failed.has(host) ? (failed.add(host), { kind: 'network' }) : node(call)))
    }
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: [], count: 1 })
    // The next round hears both endpoints by name ("already known" from the one the routing reached).
    await vi.advanceTimersByTimeAsync(10_000)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: ['http://a:80#0', 'http://b:80#1'], count: 2 })
  })

  it('survives every endpoint being down: re-broadcasts on its interval and is accepted once one is back', async () => {
    chain.down = new Set(['a', 'b'])
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(35_000)
    expect(statuses()).toEqual(['queued'])
    const rounds = broadcasts()
    // A first round plus one per interval (each round tries both endpoints, then once through the routing).
    expect(rounds).toBeGreaterThanOrEqual(4)
    chain.down.delete('b')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(handle.state).toEqual({ status: 'accepted', endpoints: ['http://b:80#1'], count: 1 })
    chain.minedAt = chain.head = 101
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'confirmed', blockNumber: 101n })
  })

  it('reports a reorged transaction as pending again and broadcasts it again', async () => {
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed, { confirmations: 3 })
    await vi.advanceTimersByTimeAsync(0)
    chain.minedAt = chain.head = 101
    await vi.advanceTimersByTimeAsync(1_000)
    expect(handle.state.status).toBe('mined')
    // The block is replaced by a fork without the transaction; nodes put it back in their mempools.
    chain.fork = 'b'
    chain.minedAt = undefined
    chain.mempool.clear()
    const before = broadcasts()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(handle.state).toMatchObject({ status: 'accepted' })
    expect(statuses()).toContain('reorged')
    expect(broadcasts()).toBeGreaterThan(before)
    chain.minedAt = 102
    chain.head = 104
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'confirmed', blockNumber: 102n, blockHash: blockHash(102, 'b') })
  })

  it('reports replaced once another transaction with its nonce is confirmations deep', async () => {
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed, { confirmations: 2 })
    await vi.advanceTimersByTimeAsync(0)
    chain.replacedAt = chain.head = 101
    await vi.advanceTimersByTimeAsync(10_000)
    // Only 1 deep: not final yet.
    expect(handle.state.status).toBe('accepted')
    chain.head = 102
    await vi.advanceTimersByTimeAsync(10_000)
    await expect(handle.done).resolves.toEqual({ status: 'replaced', nonce: 7 })
    expect(statuses().at(-1)).toBe('replaced')
  })

  it('reports dropped after dropAfter ms of refusals while its nonce is unused, not before', async () => {
    chain.refuse = 'insufficient funds for gas * price + value'
    const { outbox, statuses } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(25_000)
    expect(statuses()).toEqual(['queued'])
    await vi.advanceTimersByTimeAsync(10_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'dropped', reason: expect.stringContaining('insufficient funds') })
  })

  it('an acceptance resets the drop clock', async () => {
    chain.refuse = 'replacement transaction underpriced'
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(25_000)
    chain.refuse = undefined
    await vi.advanceTimersByTimeAsync(10_000)
    expect(handle.state.status).toBe('accepted')
    chain.refuse = 'replacement transaction underpriced'
    chain.mempool.clear()
    await vi.advanceTimersByTimeAsync(25_000)
    expect(handle.state.status).toBe('accepted')
    await vi.advanceTimersByTimeAsync(10_000)
    await expect(handle.done).resolves.toMatchObject({ status: 'dropped' })
  })

  it('expires at its deadline, naming the last state', async () => {
    chain.down = new Set(['a', 'b'])
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed, { timeout: 20_000 })
    await vi.advanceTimersByTimeAsync(19_999)
    expect(handle.state.status).toBe('queued')
    await vi.advanceTimersByTimeAsync(1)
    await expect(handle.done).resolves.toEqual({ status: 'expired', last: 'queued' })
  })

  it('rejects POOL_DESTROYED once the pool is destroyed, keeping the stored entry', async () => {
    const storage = createMemoryOutboxStorage()
    const { outbox } = makeOutbox({ storage })
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    await currentPool().destroy()
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(handle.done).rejects.toMatchObject({ code: 'POOL_DESTROYED' })
    expect((await storage.load()).map((e) => e.hash)).toEqual([hash])
  })
})
