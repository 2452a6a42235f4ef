import { beforeAll, describe, expect, it } from 'vitest'
import { createPool, type Pool } from '../../src/index.js'
import { useProxiedAnvil } from './proxiedAnvil.js'

// The fixture's pools against a real anvil. The tests run in order: the second one looks at what the
// first one left behind.

const node = useProxiedAnvil({ http: 2, ws: 1, pool: { attemptTimeout: 1_000, heartbeat: { interval: 100 } } })
const released: string[] = []
let lastTests: Pool[] = []
let fromBeforeAll: Pool

beforeAll(async () => {
  fromBeforeAll = await node.pool({ endpoints: [node.ws[0]!, node.http[0]!] }, { ready: 2 })
})

describe('useProxiedAnvil pools', () => {
  it('are built over every proxy, WebSocket ones first, named, from the file defaults', async () => {
    const p = await node.pool({ hedge: false }, { ready: 3 })
    expect(p.stats().endpoints.map((e) => e.endpoint)).toEqual(['ws0', 'A', 'B'])
    // One socket for the beforeAll's pool, one for this one.
    expect(node.ws[0]!.openConnections()).toBe(2)
    expect(node.endpoint(node.http[1]!, { weight: 2 })).toEqual({ url: node.http[1]!.url, name: 'B', weight: 2 })
    expect(() => node.endpoint({ ...node.http[0]!, url: 'http://elsewhere' })).toThrow(/not a proxy of this file/)
    const byHand = node.track(createPool({ endpoints: [node.http[0]!.url], heartbeat: false }))
    node.track({ destroy: () => released.push('tracked') })
    node.defer(() => released.push('deferred'))
    lastTests = [p, byHand]
  })

  it('are destroyed when their test ends, latest first, their sockets closed; those of a beforeAll live on', async () => {
    expect(released).toEqual(['deferred', 'tracked'])
    for (const p of lastTests) await expect(p.request('eth_chainId')).rejects.toMatchObject({ code: 'POOL_DESTROYED' })
    expect(node.ws[0]!.openConnections()).toBe(1)
    await expect(fromBeforeAll.request('eth_chainId')).resolves.toBe('0x7a69')
  })
})
