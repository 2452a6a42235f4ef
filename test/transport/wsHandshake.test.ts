import { describe, expect, it } from 'vitest'
import { advance, tick, useFakeWsTransports } from './fixtures/fakeWebSocket.js'

// The default handshake (src/transport/wsHandshake.ts): a connection opens only once eth_chainId
// answers a quantity equal to the configured chain id.

describe('chainIdHandshake', () => {
  const make = useFakeWsTransports()

  it('the default handshake checks eth_chainId against chainId; open comes only after it', async () => {
    const h = make({ handshake: undefined, chainId: 5n })
    void h.t.connect().catch(() => {})
    h.last().open()
    await tick()
    expect(h.t.stats().state).toBe('connecting')
    h.last().answer('eth_chainId', '0x1')
    await tick()
    expect(h.events.find((e) => e.name === 'closed')!.payload.reason).toMatchObject({ code: 'CHAIN_MISMATCH', expected: 5n, actual: 1n })
    await advance(100)
    h.last().open()
    h.last().answer('eth_chainId', 'five')
    await tick()
    expect((h.events.filter((e) => e.name === 'closed')[1]!.payload.reason as Error).message).toMatchInlineSnapshot(`
      "Invalid JSON-RPC response: eth_chainId returned "five", expected a hex quantity
      Endpoint: fake#0"
    `)
    await advance(200)
    h.last().open()
    h.last().answer('eth_chainId', '0x5')
    await tick()
    expect(h.names().at(-1)).toBe('open')
  })
})
