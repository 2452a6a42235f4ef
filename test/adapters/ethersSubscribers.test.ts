import { describe, expect, it, vi } from 'vitest'
import type { Network } from 'ethers'
import { PoolEventSubscriber, type SubscriberHost } from '../../src/adapters/ethersSubscribers.js'
import type { Pool } from '../../src/index.js'

// The ethers event subscriber over pool.subscribe: logs wait for the provider's network, and none
// is emitted after stop() nor lost to an unhandled rejection when the network never comes.

const LOG = { address: '0x01', topics: [], data: '0x', blockNumber: '0x1', blockHash: `0x${'1'.repeat(64)}`, transactionHash: `0x${'2'.repeat(64)}`, transactionIndex: '0x0', logIndex: '0x0' }

/** A pool whose log subscription delivers one log at once. */
const pool = { subscribe: (_kind: string, _filter: unknown, listener: (log: unknown) => void) => (listener(LOG), () => {}) } as unknown as Pool

function host(network: Promise<Network>) {
  const emitted: unknown[] = []
  const h = { getNetwork: () => network, emit: vi.fn(async (_event: unknown, log: unknown) => (emitted.push(log), true)), _wrapLog: (log: unknown) => log } as unknown as SubscriberHost
  return { h, emitted }
}

describe('PoolEventSubscriber', () => {
  it('emits a log that arrived before the network once the network is known', async () => {
    const { h, emitted } = host(Promise.resolve({ chainId: 1n } as Network))
    new PoolEventSubscriber(pool, h, { address: '0x01' }, 1_000).start()
    await new Promise((r) => setTimeout(r, 0))
    expect(emitted).toEqual([LOG])
  })

  it('emits nothing after stop(), and a network that never comes is no unhandled rejection', async () => {
    let resolve!: (n: Network) => void
    const late = host(new Promise<Network>((r) => (resolve = r)))
    const s = new PoolEventSubscriber(pool, late.h, { address: '0x01' }, 1_000)
    s.start()
    s.stop()
    resolve({ chainId: 1n } as Network)
    await new Promise((r) => setTimeout(r, 0))
    expect(late.emitted).toEqual([])
    const never = host(Promise.reject(new Error('provider destroyed')))
    new PoolEventSubscriber(pool, never.h, { address: '0x01' }, 1_000).start()
    await new Promise((r) => setTimeout(r, 0))
    expect(never.emitted).toEqual([])
  })
})
