import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { resolveOptions } from '../../src/transport/wsOptions.js'
import type { WsTransportOptions } from '../../src/config/webSocketOptions.js'

// Defaults are applied, and options validated, in one place at construction.

const URL = 'wss://node.example/v3/SECRETKEY'

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions({ url: URL, endpoint: 'node#0' })
    expect(o).toMatchObject({
      WebSocket,
      connectTimeout: 10_000,
      keepalive: { interval: 10_000, timeout: 5_000, mode: 'auto', method: 'eth_chainId' },
      reconnect: { initial: 250, max: 30_000, factor: 2, jitter: 0.5, stableAfter: 10_000, maxAttempts: Infinity, giveUp: undefined },
      random: Math.random,
      unref: true,
      maxResponseBytes: 32 * 1024 * 1024,
    })
    // ws reads maxPayload as an int32: a larger bound is clamped, not wrapped into "no bound".
    expect(resolveOptions({ url: URL, endpoint: 'x', maxResponseBytes: 2 ** 40 }).maxResponseBytes).toBe(2 ** 31 - 1)
    expect(resolveOptions({ url: 'ws://127.0.0.1:8545', endpoint: 'x', keepalive: false }).keepalive).toBe(false)
  })

  it('rejects bad options at construction, never quoting the URL', () => {
    const make = (o: Partial<WsTransportOptions>) => () => resolveOptions({ url: URL, endpoint: 'node#0', ...o })
    expect(make({ url: `http://127.0.0.1/v3/SECRETKEY` })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`url\`: expected a ws:// or wss:// URL]`)
    expect(make({ endpoint: '' })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`endpoint\`: expected a non-empty redacted endpoint id]`)
    expect(make({ keepalive: { interval: 0 } })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`keepalive.interval\`: expected a duration in ms > 0 and <= 2147483647, got 0]`)
    expect(make({ keepalive: { mode: 'pong' as never } })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`keepalive.mode\`: expected one of 'auto', 'ping', 'request', got "pong"]`)
    expect(make({ reconnect: { maxAttempts: -1 } })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`reconnect.maxAttempts\`: expected an integer >= 0 or Infinity, got -1]`)
    expect(make({ reconnect: { initial: 100, max: 10 } })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`reconnect.max\`: expected >= reconnect.initial (100), got 10]`)
    expect(make({ reconnect: { jitter: 2 } })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`reconnect.jitter\`: expected a number in [0, 1], got 2]`)
    expect(make({ connectTimeout: Infinity })).toThrow(/connectTimeout/)
    expect(make({ chainId: 1 as never })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`chainId\`: expected a bigint, got number]`)
    expect(make({ reconnect: { giveUp: true as never } })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`reconnect.giveUp\`: expected a function, got true]`)
    expect(make({ keepalive: { method: '' } })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`keepalive.method\`: expected a JSON-RPC method name]`)
    expect(make({ maxResponseBytes: 0 })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`maxResponseBytes\`: expected an integer >= 1, got 0]`)
    expect(make({ maxResponseBytes: 1.5 })).toThrow(/maxResponseBytes/)
    expect(make({ maxResponseBytes: '1' as never })).toThrow(/maxResponseBytes/)
    expect(make({ WebSocket: 'nope' as never })).toThrowErrorMatchingInlineSnapshot(`[InvalidOptionError: Invalid option \`WebSocket\`: no WebSocket implementation available: pass one]`)
  })
})
