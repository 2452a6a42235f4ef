import { keccak256, Transaction, Wallet } from 'ethers'
import { describe, expect, it, vi } from 'vitest'
import { isResilientRpcError, sendRawTransaction } from '../../src/index.js'
import { start } from '../support/async.js'
import type { Behaviour, FetchCall } from '../support/fakeFetch.js'
import { useFakePool } from '../support/fakePool.js'

// Broadcasting signed bytes over three endpoints with a scripted fetch and fake timers (heartbeats off:
// every endpoint is eligible from the start).

// A real signed EIP-1559 transfer (anvil's second dev key), so the hash can be checked against ethers' own.
const SIGNED = await new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d').signTransaction({
  type: 2,
  chainId: 31337n,
  nonce: 7,
  to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  value: 10n ** 15n,
  gasLimit: 21_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
})
const HASH = keccak256(SIGNED)
const HOSTS = ['a', 'b', 'c'] as const

const { fake, makePool, lastPool } = useFakePool({ endpoints: HOSTS.map((h) => `http://${h}`), random: () => 0, heartbeat: false })

/** An endpoint answering eth_sendRawTransaction with `send`, and eth_getTransactionByHash with `known`. */
function node(send: Behaviour, known: unknown = null): (call: FetchCall) => Behaviour {
  return (call) => {
    if (call.method === 'eth_sendRawTransaction') return send
    if (call.method === 'eth_getTransactionByHash') return { kind: 'ok', result: known }
    return { kind: 'rpcError', code: -32601, message: 'method not found' }
  }
}

const accepted: Behaviour = { kind: 'ok', result: HASH }
const rejected = (message: string): Behaviour => ({ kind: 'rpcError', code: -32000, message })
const sends = () => fake.calls.filter((c) => c.method === 'eth_sendRawTransaction')
const lookups = () => fake.calls.filter((c) => c.method === 'eth_getTransactionByHash')

it('the hash is keccak256 of the signed bytes, the transaction hash', () => {
  expect(HASH).toBe(Transaction.from(SIGNED).hash)
})

describe('sendRawTransaction: accepted', () => {
  it.each(HOSTS)('resolves with the hash as soon as %s accepts, without waiting for the others', async (host) => {
    for (const h of HOSTS) fake.set(h, h === host ? node(accepted) : node({ kind: 'hang' }))
    const p = makePool()
    const { outcome, done } = start(sendRawTransaction(p, SIGNED))
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome).toEqual({ settled: true, value: HASH })
    await done
    // Sent once to each endpoint, the same bytes everywhere; the others are still hanging.
    expect(sends().map((c) => [c.host, c.params])).toEqual(HOSTS.map((h) => [h, [SIGNED]]))
    expect(sends().filter((c) => c.signal.aborted)).toHaveLength(0)
    // destroy() ends them: no request, timer or listener is left (checked after each test).
    await p.destroy()
    expect(sends().filter((c) => c.signal.aborted).map((c) => c.host)).toEqual(HOSTS.filter((h) => h !== host))
  })

  it('resolves with the hash computed locally, whatever an endpoint answers', async () => {
    for (const h of HOSTS) fake.set(h, node({ kind: 'ok', result: `0x${'00'.repeat(32)}` }))
    await expect(sendRawTransaction(makePool(), SIGNED)).resolves.toBe(HASH)
  })

  it.each(['already known', 'known transaction: 0x1234', 'ALREADY_EXISTS: already known', 'transaction already imported', 'Transaction with the same hash was already imported.'])(
    "'%s' counts as accepted",
    async (message) => {
      fake.set('a', node(rejected(message)))
      fake.set('b', node({ kind: 'hang' }))
      fake.set('c', node(rejected('insufficient funds for gas * price + value')))
      const { outcome } = start(sendRawTransaction(makePool(), SIGNED))
      await vi.advanceTimersByTimeAsync(0)
      expect(outcome).toEqual({ settled: true, value: HASH })
      expect(lookups()).toHaveLength(0)
    },
  )

  it('one acceptance among rejections is enough', async () => {
    fake.set('a', node(rejected('insufficient funds for gas * price + value')))
    fake.set('b', node(rejected('nonce too low')))
    fake.set('c', node(accepted))
    await expect(sendRawTransaction(makePool(), SIGNED)).resolves.toBe(HASH)
    expect(lookups()).toHaveLength(0)
  })
})

describe('sendRawTransaction: onAccepted', () => {
  const recorder = () => {
    const endpoints: (string | undefined)[] = []
    return { endpoints, onAccepted: ({ endpoint }: { endpoint: string | undefined }) => void endpoints.push(endpoint) }
  }

  it('hears each endpoint that accepts, "already known" included, and those answering after the send resolved', async () => {
    fake.set('a', node({ kind: 'ok', result: HASH, delay: 500 }))
    fake.set('b', node(rejected('already known')))
    fake.set('c', node(rejected('insufficient funds for gas * price + value')))
    const { endpoints, onAccepted } = recorder()
    const heardBeforeResolving: (string | undefined)[][] = []
    const { outcome } = start(sendRawTransaction(makePool(), SIGNED, { onAccepted }).then((hash) => (heardBeforeResolving.push([...endpoints]), hash)))
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome).toEqual({ settled: true, value: HASH })
    expect(heardBeforeResolving).toEqual([['http://b:80#1']])
    await vi.advanceTimersByTimeAsync(500)
    expect(endpoints).toEqual(['http://b:80#1', 'http://a:80#0'])
  })

  it('an acceptance through the pool\'s routing has no endpoint: broadcast one, and the second round', async () => {
    for (const h of HOSTS) fake.set(h, node(accepted))
    const one = recorder()
    await sendRawTransaction(makePool(), SIGNED, { broadcast: 'one', onAccepted: one.onAccepted })
    expect(one.endpoints).toEqual([undefined])

    const failedOnce = new Set<string>()
    for (const h of HOSTS) {
      fake.set(h, (call) => (failedOnce.has(h) ? node(accepted)(call) : (failedOnce.add(h), { kind: 'network' })))
    }
    const second = recorder()
    await sendRawTransaction(makePool(), SIGNED, { onAccepted: second.onAccepted })
    expect(second.endpoints).toEqual([undefined])
  })

  it('not called when the send resolves because a nonce-too-low endpoint knows the hash', async () => {
    for (const h of HOSTS) fake.set(h, node(rejected('nonce too low'), { hash: HASH }))
    const { endpoints, onAccepted } = recorder()
    await expect(sendRawTransaction(makePool(), SIGNED, { onAccepted })).resolves.toBe(HASH)
    expect(endpoints).toEqual([])
  })

  it('a throwing onAccepted changes nothing', async () => {
    for (const h of HOSTS) fake.set(h, node(accepted))
    const onAccepted = vi.fn(() => {
      throw new Error('observer bug')
    })
    await expect(sendRawTransaction(makePool(), SIGNED, { onAccepted })).resolves.toBe(HASH)
    expect(onAccepted).toHaveBeenCalledTimes(3)
  })

  it('the broadcasts still in flight after it resolved stay under the caller\'s signal', async () => {
    fake.set('a', node(accepted))
    fake.set('b', node({ kind: 'hang' }))
    fake.set('c', node({ kind: 'ok', result: HASH, delay: 1_000 }))
    const controller = new AbortController()
    const { endpoints, onAccepted } = recorder()
    const { outcome } = start(sendRawTransaction(makePool({ defaultTimeout: 60_000 }), SIGNED, { signal: controller.signal, onAccepted }))
    await vi.advanceTimersByTimeAsync(0)
    expect(outcome.value).toBe(HASH)
    controller.abort(new Error('user left'))
    await vi.advanceTimersByTimeAsync(0)
    expect(sends().filter((c) => c.signal.aborted).map((c) => c.host)).toEqual(['b', 'c'])
    await vi.advanceTimersByTimeAsync(1_000)
    expect(endpoints).toEqual(['http://a:80#0'])
  })

  it('and under its timeout, counted from the start of the send', async () => {
    fake.set('a', node(accepted))
    fake.set('b', node({ kind: 'hang' }))
    fake.set('c', node({ kind: 'ok', result: HASH, delay: 3_000 }))
    const { endpoints, onAccepted } = recorder()
    await sendRawTransaction(makePool({ defaultTimeout: 60_000 }), SIGNED, { timeout: 2_000, onAccepted })
    await vi.advanceTimersByTimeAsync(1_999)
    expect(sends().filter((c) => c.signal.aborted)).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(sends().filter((c) => c.signal.aborted).map((c) => c.host)).toEqual(['b', 'c'])
    await vi.advanceTimersByTimeAsync(1_000)
    expect(endpoints).toEqual(['http://a:80#0'])
  })
})

describe('sendRawTransaction: rejected everywhere', () => {
  it("'nonce too low' everywhere, but an endpoint knows the hash: an earlier send landed → resolves", async () => {
    for (const h of HOSTS) fake.set(h, node(rejected('nonce too low: next nonce 8, tx nonce 7'), { hash: HASH, blockNumber: '0x64' }))
    await expect(sendRawTransaction(makePool(), SIGNED)).resolves.toBe(HASH)
    expect(lookups().map((c) => c.params)).toEqual([[HASH]])
  })

  it("'nonce too low' everywhere and nobody knows the hash → TX_REJECTED", async () => {
    for (const h of HOSTS) fake.set(h, node(rejected('nonce too low')))
    const error = await sendRawTransaction(makePool(), SIGNED).catch((e: unknown) => e)
    expect(isResilientRpcError(error, 'TX_REJECTED')).toBe(true)
    expect(lookups()).toHaveLength(1)
    expect(error).toMatchObject({ hash: HASH })
  })

  it('a mix of nonce too low and another rejection still looks the hash up', async () => {
    fake.set('a', node(rejected('insufficient funds for gas * price + value'), { hash: HASH }))
    fake.set('b', node(rejected('OldNonce'), { hash: HASH }))
    fake.set('c', node(rejected('replacement transaction underpriced'), { hash: HASH }))
    await expect(sendRawTransaction(makePool(), SIGNED)).resolves.toBe(HASH)
    expect(lookups()).toHaveLength(1)
  })

  it("'insufficient funds' everywhere → TX_REJECTED listing the three answers, no lookup, no second round", async () => {
    for (const h of HOSTS) fake.set(h, node(rejected('insufficient funds for gas * price + value')))
    const error = (await sendRawTransaction(makePool(), SIGNED).catch((e: unknown) => e)) as Error & { rejections: { endpoint: string; error: Error }[] }
    expect(isResilientRpcError(error, 'TX_REJECTED')).toBe(true)
    expect(error.rejections.map((r) => [r.endpoint, (r.error as { code?: string }).code])).toEqual([
      ['http://a:80#0', 'RPC_ERROR'],
      ['http://b:80#1', 'RPC_ERROR'],
      ['http://c:80#2', 'RPC_ERROR'],
    ])
    expect(error.message.replace(HASH, '<hash>')).toMatchInlineSnapshot(`
      "Transaction <hash> rejected: RPC error -32000: insufficient funds for gas * price + value
      Details: http://a:80#0: RPC error -32000: insufficient funds for gas * price + value; http://b:80#1: RPC error -32000: insufficient funds for gas * price + value; http://c:80#2: RPC error -32000: insufficient funds for gas * price + value"
    `)
    expect(sends()).toHaveLength(3)
    expect(lookups()).toHaveLength(0)
  })
})

describe('sendRawTransaction: endpoints that cannot be reached', () => {
  it('transport failures everywhere → once more through pool.request (retries, failover), whose error surfaces', async () => {
    for (const h of HOSTS) fake.set(h, node({ kind: 'network' }))
    const p = makePool({ retries: 2 })
    const { outcome, done } = start(sendRawTransaction(p, SIGNED))
    await vi.advanceTimersByTimeAsync(0)
    await done
    // Three broadcast sends, then one pool.request of three attempts (one per endpoint, no back-off needed).
    expect(sends().map((c) => c.host)).toEqual(['a', 'b', 'c', 'a', 'b', 'c'])
    expect(isResilientRpcError(outcome.error, 'RETRIES_EXHAUSTED')).toBe(true)
    expect((outcome.error as { attempts: unknown[] }).attempts).toHaveLength(3)
  })

  it('transport failures everywhere, then the pool.request succeeds → resolves', async () => {
    const failedOnce = new Set<string>()
    for (const h of HOSTS) {
      fake.set(h, (call) => {
        if (failedOnce.has(h)) return node(accepted)(call)
        failedOnce.add(h)
        return { kind: 'network' }
      })
    }
    await expect(sendRawTransaction(makePool(), SIGNED)).resolves.toBe(HASH)
    expect(sends()).toHaveLength(4)
  })

  it('rejections plus an unreachable endpoint → a second round, whose nonce too low is checked by hash', async () => {
    // The first broadcast: two refusals and one endpoint down. By the second round the transaction has
    // landed (the refusals were about an earlier nonce state), so any endpoint now says nonce too low.
    const tries = new Map<string, number>()
    for (const h of HOSTS) {
      fake.set(h, (call) => {
        if (call.method === 'eth_getTransactionByHash') return { kind: 'ok', result: { hash: HASH } }
        const n = (tries.get(h) ?? 0) + 1
        tries.set(h, n)
        if (n > 1) return rejected('nonce too low')
        return h === 'c' ? { kind: 'network' } : rejected('insufficient funds for gas * price + value')
      })
    }
    const { outcome, done } = start(sendRawTransaction(makePool({ retries: 0 }), SIGNED))
    await vi.advanceTimersByTimeAsync(0)
    await done
    expect(outcome).toEqual({ settled: true, value: HASH })
    expect(sends()).toHaveLength(4)
    expect(lookups()).toHaveLength(1)
  })

  it('rejections plus an unreachable endpoint, refused again in the second round → that refusal surfaces', async () => {
    fake.set('a', node(rejected('insufficient funds for gas * price + value')))
    fake.set('b', node(rejected('insufficient funds for gas * price + value')))
    fake.set('c', node({ kind: 'network' }))
    const { outcome, done } = start(sendRawTransaction(makePool(), SIGNED))
    await vi.advanceTimersByTimeAsync(0)
    await done
    expect(outcome.error).toMatchObject({ code: 'RPC_ERROR', rpcMessage: 'insufficient funds for gas * price + value' })
    expect(lookups()).toHaveLength(0)
  })
})

describe('sendRawTransaction: options', () => {
  it("broadcast: 'one' sends through pool.request only", async () => {
    for (const h of HOSTS) fake.set(h, node(accepted))
    await expect(sendRawTransaction(makePool(), SIGNED, { broadcast: 'one' })).resolves.toBe(HASH)
    expect(sends()).toHaveLength(1)
  })

  it("broadcast: 'one' fails over like any request", async () => {
    fake.set('a', node({ kind: 'network' }))
    fake.set('b', node(accepted))
    fake.set('c', node(accepted))
    await expect(sendRawTransaction(makePool(), SIGNED, { broadcast: 'one' })).resolves.toBe(HASH)
    expect(sends().map((c) => c.host)).toEqual(['a', 'b'])
  })

  it("broadcast: 'one' rejected with nonce too low and unknown → TX_REJECTED from the pool", async () => {
    for (const h of HOSTS) fake.set(h, node(rejected('nonce too low')))
    const error = await sendRawTransaction(makePool(), SIGNED, { broadcast: 'one' }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TX_REJECTED', rejections: [{ endpoint: 'pool' }] })
    expect(sends()).toHaveLength(1)
    expect(lookups()).toHaveLength(1)
  })

  it('a caller abort → ABORTED, every send aborted', async () => {
    for (const h of HOSTS) fake.set(h, node({ kind: 'hang' }))
    const controller = new AbortController()
    const { outcome, done } = start(sendRawTransaction(makePool(), SIGNED, { signal: controller.signal }))
    await vi.advanceTimersByTimeAsync(100)
    controller.abort(new Error('user left'))
    await done
    expect(outcome.error).toMatchObject({ code: 'ABORTED', cause: new Error('user left') })
    expect(sends()).toHaveLength(3)
    expect(sends().every((c) => c.signal.aborted)).toBe(true)
  })

  it.each([
    { name: 'an unknown broadcast mode', options: { broadcast: 'some' }, option: 'broadcast' },
    { name: 'a zero timeout', options: { timeout: 0 }, option: 'timeout' },
    { name: 'an onAccepted that is not a function', options: { onAccepted: 42 }, option: 'onAccepted' },
    { name: 'a signal that is not an AbortSignal', options: { signal: {} }, option: 'signal' },
  ])('$name → INVALID_OPTION, nothing sent', async ({ options, option }) => {
    const error = await sendRawTransaction(makePool(), SIGNED, options as never).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option })
    expect(fake.calls).toHaveLength(0)
  })

  it.each([
    { name: "'0x' (no bytes)", signed: '0x' },
    { name: 'an odd number of digits', signed: `${SIGNED}0` },
    { name: 'no 0x prefix', signed: SIGNED.slice(2) },
    { name: 'non-hex digits', signed: '0xzz' },
    { name: 'the empty string', signed: '' },
    { name: 'not a string', signed: 42 },
  ])('$name → INVALID_OPTION, nothing sent', async ({ signed }) => {
    const error = await sendRawTransaction(makePool(), signed as string).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'signedTransaction' })
    expect(fake.calls).toHaveLength(0)
  })
})

describe('one deadline', () => {
  it('`timeout` bounds the whole send, the second round included', async () => {
    for (const h of HOSTS) fake.set(h, node({ kind: 'hang' }))
    const { outcome, done } = start(sendRawTransaction(makePool(), SIGNED, { timeout: 1_000 }))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(outcome.settled).toBe(true)
    expect(outcome.error).toMatchObject({ code: 'TIMEOUT' })
    await lastPool().destroy()
    await done
  })
})
