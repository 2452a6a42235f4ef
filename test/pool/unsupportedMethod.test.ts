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

describe('the `methods` endpoint option', () => {
  it('exclude: the endpoint is never asked for those methods; include: only for those', async () => {
    fake.set('a', { kind: 'ok', result: '0x1' })
    fake.set('b', { kind: 'ok', result: '0x1' })
    const p = makePool({}, [
      { url: 'http://a', methods: { exclude: [METHOD] } },
      { url: 'http://b', methods: { include: [METHOD, 'eth_call'] } },
    ])
    for (let i = 0; i < 4; i++) await p.request(METHOD, ['0x01'])
    for (let i = 0; i < 4; i++) await p.request('eth_getBalance', ['0x1', '0x1'])
    expect(fake.calls.filter((c) => c.method === METHOD).map((c) => c.host)).toEqual(['b', 'b', 'b', 'b'])
    expect(fake.calls.filter((c) => c.method === 'eth_getBalance').map((c) => c.host)).toEqual(['a', 'a', 'a', 'a'])
  })

  it('a method no endpoint is configured for fails NO_ENDPOINT at once, saying why', async () => {
    const p = makePool({}, [{ url: 'http://a', methods: { include: ['eth_call'] } }])
    const error = await p.request(METHOD, ['0x01']).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'NO_ENDPOINT', excluded: [{ endpoint: 'http://a:80#0', reason: `not asked for ${METHOD} (its \`methods\` option)` }] })
    expect(fake.calls).toEqual([])
  })

  it('is checked: exactly one of include and exclude, an array of names, no unknown key', () => {
    const refused = (methods: unknown) => {
      try {
        makePool({}, [{ url: 'http://a', methods } as never])
      } catch (error) {
        return (error as Error).message
      }
      return 'accepted'
    }
    expect(refused({})).toBe('Invalid option `endpoints[0].methods`: expected exactly one of `include` and `exclude`')
    expect(refused({ include: ['eth_call'], exclude: [METHOD] })).toBe('Invalid option `endpoints[0].methods`: expected exactly one of `include` and `exclude`')
    expect(refused({ include: 'eth_call' })).toBe('Invalid option `endpoints[0].methods.include`: expected an array of method names')
    expect(refused({ includ: ['eth_call'] })).toBe('Invalid option `endpoints[0].methods.includ`: unknown option; did you mean `include`?')
    expect(refused({ exclude: [] })).toBe('accepted')
  })
})
