import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { defaultWebSocket } from '../../src/platform/node.js'

// Which WebSocket the transport uses when none is injected.

afterEach(() => {
  vi.doUnmock('ws')
  vi.unstubAllGlobals()
  vi.resetModules()
})

describe('defaultWebSocket', () => {
  it('is the `ws` package in Node, for its protocol pings', () => {
    expect(defaultWebSocket()).toBe(WebSocket)
  })

  it("falls back to the global WebSocket when a bundler hands over ws's browser stub", async () => {
    const Global = class {}
    vi.stubGlobal('WebSocket', Global)
    vi.resetModules()
    // ws's browser.js: a plain function that throws, without ws's static readyState constants.
    vi.doMock('ws', () => ({
      default: () => {
        throw new Error('ws does not work in the browser')
      },
    }))
    const fresh = await import('../../src/platform/node.js')
    expect(fresh.defaultWebSocket()).toBe(Global)
  })
})
