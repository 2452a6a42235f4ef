import { describe, expect, it, vi } from 'vitest'
import { createMemoryOutboxStorage, createOutbox, type OutboxEntry, type OutboxStorage } from '../../src/index.js'
import { start } from '../support/async.js'
import { chain, fake, hash, node, signed, useScriptedOutbox, wallet } from './scriptedOutbox.js'

// createOutbox itself over the scripted chain: sending, storage and resuming, events, closing, bad input.
// One transaction's own life (acceptances, mining, reorgs, replacement, drops) is in trackedTransaction.test.ts.

const { currentPool, broadcasts, makeOutbox } = useScriptedOutbox()

describe('createOutbox', () => {
  it('persists every state and resumes after a restart; a final state leaves the storage', async () => {
    const saved = new Map<string, OutboxEntry>()
    const storage: OutboxStorage = {
      load: async () => [...saved.values()].map((e) => JSON.parse(JSON.stringify(e)) as OutboxEntry),
      save: async (e) => void saved.set(e.hash, JSON.parse(JSON.stringify(e)) as OutboxEntry),
      remove: async (h) => void saved.delete(h),
    }
    const first = makeOutbox({ storage }).outbox
    const handle = await first.send(signed, { confirmations: 1, deadline: Date.now() + 60_000 })
    expect(saved.get(hash)).toMatchObject({ hash, raw: signed, from: wallet.address, nonce: 7, confirmations: 1, status: 'queued' })
    await vi.advanceTimersByTimeAsync(0)
    expect(saved.get(hash)?.status).toBe('accepted')
    first.close()
    await expect(handle.done).rejects.toMatchObject({ code: 'ABORTED' })
    expect(saved.has(hash)).toBe(true)

    chain.minedAt = chain.head = 101
    const second = makeOutbox({ storage })
    const [resumed] = await second.outbox.resume()
    expect(resumed!.hash).toBe(hash)
    await vi.advanceTimersByTimeAsync(1_000)
    await expect(resumed!.done).resolves.toMatchObject({ status: 'confirmed' })
    await vi.advanceTimersByTimeAsync(0)
    expect(saved.size).toBe(0)
  })

  it('sending the same bytes twice tracks them once', async () => {
    const { outbox } = makeOutbox()
    const [one, two] = await Promise.all([outbox.send(signed), outbox.send(signed)])
    expect(one).toBe(two)
    expect(outbox.get(hash)).toBe(one)
  })

  it('an aborted send stops, rejects ABORTED and leaves the storage; close leaves no timer and no unhandled rejection', async () => {
    const storage = createMemoryOutboxStorage()
    const { outbox } = makeOutbox({ storage })
    const controller = new AbortController()
    const handle = await outbox.send(signed, { signal: controller.signal })
    await vi.advanceTimersByTimeAsync(0)
    controller.abort(new Error('user'))
    await expect(handle.done).rejects.toMatchObject({ code: 'ABORTED' })
    await vi.advanceTimersByTimeAsync(0)
    expect(await storage.load()).toEqual([])
    const sent = broadcasts()
    await vi.advanceTimersByTimeAsync(30_000)
    expect(broadcasts()).toBe(sent)

    chain.down = new Set(['a', 'b'])
    const other = await wallet.signTransaction({ to: wallet.address, nonce: 8, gasLimit: 21_000n, gasPrice: 1n, chainId: 1n })
    const run = start((await outbox.send(other)).done)
    outbox.close()
    await run.done
    expect(run.outcome.error).toMatchObject({ code: 'ABORTED' })
    await expect(outbox.send(signed)).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('close() leaves no timer: not the deadline, the next round, the watcher\'s wait nor a broadcast still in flight', async () => {
    const idle = vi.getTimerCount()
    fake.set('b', (call) => (call.method === 'eth_sendRawTransaction' ? { kind: 'hang' } : call.method === 'eth_getTransactionReceipt' ? { kind: 'rpcError', code: -32000, message: 'backend unavailable' } : node(call)))
    fake.set('a', (call) => (call.method === 'eth_getTransactionReceipt' ? { kind: 'rpcError', code: -32000, message: 'backend unavailable' } : node(call)))
    const { outbox } = makeOutbox()
    const handle = await outbox.send(signed, { timeout: 60_000 })
    await vi.advanceTimersByTimeAsync(500)
    expect(handle.state.status).toBe('accepted')
    const hanging = fake.calls.filter((c) => c.method === 'eth_sendRawTransaction' && c.host === 'b')
    expect(hanging.map((c) => c.signal.aborted)).toEqual([false])
    expect(vi.getTimerCount()).toBeGreaterThan(idle)
    outbox.close()
    await vi.advanceTimersByTimeAsync(0)
    expect(hanging[0]!.signal.aborted).toBe(true)
    // Once the pool's own timers go too, with no time passed, nothing of the outbox may be left.
    await currentPool().destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a throwing listener or storage is reported as an error event, and the transaction lives on', async () => {
    const errors: unknown[] = []
    const storage: OutboxStorage = { load: () => [], save: () => Promise.reject(new Error('disk full')), remove: () => undefined }
    const { outbox } = makeOutbox({ storage, onState: () => { throw new Error('listener bug') } })
    outbox.on('error', (e) => errors.push(e))
    const handle = await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(handle.state.status).toBe('accepted')
    expect(errors.map((e) => (e as Error).message)).toEqual(expect.arrayContaining(['disk full', 'listener bug']))
  })

  it('once hears one event; a throwing state listener is reported as an error event and the others still hear it', async () => {
    const { outbox, statuses } = makeOutbox()
    const first: string[] = []
    const errors: unknown[] = []
    outbox.once('state', (e) => first.push(e.state.status))
    outbox.on('state', () => {
      throw new Error('listener bug')
    })
    outbox.on('error', (e) => errors.push(e))
    await outbox.send(signed)
    await vi.advanceTimersByTimeAsync(0)
    expect(first).toEqual(['queued'])
    expect(statuses()).toEqual(['queued', 'accepted', 'accepted'])
    expect(errors).toEqual([new Error('listener bug'), new Error('listener bug'), new Error('listener bug')])
  })

  it('an abort while the first save is under way stops the send: ABORTED, nothing broadcast or stored', async () => {
    let release!: () => void
    const saved = new Map<string, OutboxEntry>()
    const storage: OutboxStorage = {
      load: () => [...saved.values()],
      save: async (e) => {
        await new Promise<void>((r) => (release = r))
        saved.set(e.hash, e)
      },
      remove: (h) => void saved.delete(h),
    }
    const { outbox } = makeOutbox({ storage })
    const controller = new AbortController()
    const sending = start(outbox.send(signed, { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(0)
    controller.abort(new Error('user'))
    release()
    await sending.done
    expect(sending.outcome.error).toMatchObject({ code: 'ABORTED' })
    await vi.advanceTimersByTimeAsync(30_000)
    expect(outbox.get(hash)).toBeUndefined()
    expect(broadcasts()).toBe(0)
    expect(saved.size).toBe(0)
  })

  it('rejects what is not a signed transaction, and bad options', async () => {
    const { outbox } = makeOutbox()
    await expect(outbox.send('0x1234')).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(outbox.send('nope')).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(outbox.send(signed, { confirmations: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'confirmations' })
    expect(() => createOutbox(currentPool(), { rebroadcastInterval: 0 })).toThrow(/rebroadcastInterval/)
    expect(() => createOutbox(currentPool(), { storage: {} as OutboxStorage })).toThrow(/storage\.load/)
  })
})
