import { describe, expect, it } from 'vitest'
import { describeError, formatResult, healthRows, healthTable, healthyCount, toJson } from '../../src/cli/format.js'
import { TimeoutError, type EndpointStats } from '../../src/index.js'
import { fakeEndpointStats, fakePoolStats } from '../support/fakeStats.js'

// Mainnet-like numbers: the columns must fit an eight-digit head.
const endpoint = (id: string, over: Partial<EndpointStats>) =>
  fakeEndpointStats(id, { chainId: 1n, head: 19_000_000n, latencyEwma: 41.6, latencyP95: 60, requests: 3, served: 3, ...over })

const stats = fakePoolStats(
  [
    endpoint('https://rpc.example:443#0', {}),
    endpoint('https://other.example:443#1', { status: 'lagging', statusReason: 'Endpoint is 12 blocks behind the reference head 19000000', head: 18_999_988n, lag: 12n }),
    endpoint('http://10.0.0.5:8545#2', { status: 'connecting', chainId: undefined, head: undefined, lag: undefined, latencyEwma: undefined }),
  ],
  { chainId: 1n, referenceHead: 19_000_000n },
)

describe('CLI output', () => {
  it('prints the health table with one row per endpoint, numbers right-aligned', () => {
    expect(healthTable(healthRows(stats))).toBe(
      [
        'endpoint                     chain      head  lag  latency  state       note',
        'https://rpc.example:443#0        1  19000000    0    42 ms  up',
        'https://other.example:443#1      1  18999988   12    42 ms  lagging     Endpoint is 12 blocks behind the reference head 19000000',
        'http://10.0.0.5:8545#2           –         –    –        –  connecting  no answer yet',
      ].join('\n'),
    )
    expect(healthyCount(healthRows(stats))).toBe(1)
  })

  it('writes bigints as decimal strings and decoded results as plain arrays in JSON', () => {
    expect(toJson({ head: 19_000_000n, pair: [1n, 'x'], nested: { a: [2n] } })).toBe('{"head":"19000000","pair":["1","x"],"nested":{"a":["2"]}}')
  })

  it('prints strings and numbers bare, structures as JSON', () => {
    expect(formatResult('0x10')).toBe('0x10')
    expect(formatResult(42n)).toBe('42')
    expect(formatResult(null)).toBe('null')
    expect(formatResult({ number: '0x1' })).toBe('{\n  "number": "0x1"\n}')
  })

  it("describes errors by the library's code and redacted message", () => {
    expect(describeError(new TimeoutError('request', 1_000))).toEqual({ code: 'TIMEOUT', message: 'Request timed out after 1000 ms' })
    expect(describeError(new Error('boom'))).toEqual({ code: 'ERROR', message: 'boom' })
  })
})
