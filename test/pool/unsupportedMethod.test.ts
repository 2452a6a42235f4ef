import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError } from '../../src/index.js'
import { useFakePool } from '../support/fakePool.js'

// "Method not found" from one endpoint while another serves the method (src/pool/retry.ts,
// src/pool/attempt.ts): the other one answers, and the first is asked for that method only after the
// others for a while — learned per endpoint, shown in stats().

const METHOD = 'debug_traceTransaction'
const NOT_FOUND = { kind: 'rpcError', code: -32601, message: 'the method debug_traceTransaction does not exist/is not available' } as const
const { fake, makePool } = useFakePool({ endpoints: ['http://a', 'http://b'], heartbeat: false, random: () => 0, hedge: false, dedupe: false, retryBudget: { ratio: 0, minPerSecond: 0.1, window: 10_000 } })
const asked = () => fake.calls.filter((c) => c.method === METHOD).map((c) => c.host)

describe('an endpoint without a method', () => {
  it('is passed over for another that serves it, uncharged, and asked for it only after the others for five minutes', async () => {
    fake.set('a', (call) => (call.method === METHOD ? NOT_FOUND : { kind: 'ok', result: '0x1' }))
    fake.set('b', { kind: 'ok', result: { calls: [] } })
    const p = makePool()
    await expect(p.request(METHOD, ['0x01'])).resolves.toEqual({ calls: [] })
    expect(asked()).toEqual(['a', 'b'])
    expect(p.stats().endpoints.map((e) => e.unsupportedMethods)).toEqual([[METHOD], []])
    // Routing, not a retry storm: the budget (one retry in the window) is untouched.
    expect(p.stats().retryBudget).toMatchObject({ spent: 0 })
    // The next ones go to b first: a is not asked again.
    for (let i = 0; i < 3; i++) await p.request(METHOD, ['0x02'])
    expect(asked()).toEqual(['a', 'b', 'b', 'b', 'b'])
    // Other methods still go to both.
    for (let i = 0; i < 4; i++) await p.request('eth_getBalance', ['0x1', '0x1'])
    expect(new Set(fake.calls.filter((c) => c.method === 'eth_getBalance').map((c) => c.host))).toEqual(new Set(['a', 'b']))
    await vi.advanceTimersByTimeAsync(5 * 60_000)
    expect(p.stats().endpoints[0]!.unsupportedMethods).toEqual([])
  })

  it('served by none: each endpoint asked once, then the node\'s own answer; the next call asks one and fails at once', async () => {
    fake.set('a', NOT_FOUND)
    fake.set('b', NOT_FOUND)
    const p = makePool()
    const first = await p.request(METHOD, ['0x01']).catch((e: unknown) => e)
    expect(isResilientRpcError(first, 'RPC_ERROR') && first.rpcCode).toBe(-32601)
    expect(asked()).toEqual(['a', 'b'])
    const second = await p.request(METHOD, ['0x01']).catch((e: unknown) => e)
    expect(isResilientRpcError(second, 'RPC_ERROR') && second.rpcCode).toBe(-32601)
    expect(asked()).toHaveLength(3)
  })
})
