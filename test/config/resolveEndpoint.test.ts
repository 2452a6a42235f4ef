import { describe, expect, it } from 'vitest'
import { endpointId } from '../../src/config/resolveEndpoint.js'

describe('endpointId', () => {
  it.each([
    { url: 'https://mainnet.example/v3/abc', index: 0, expected: 'https://mainnet.example:443#0' },
    { url: 'http://mainnet.example/', index: 1, expected: 'http://mainnet.example:80#1' },
    { url: 'http://127.0.0.1:8545', index: 2, expected: 'http://127.0.0.1:8545#2' },
    { url: 'https://node.example:8443/rpc', index: 3, expected: 'https://node.example:8443#3' },
    { url: 'https://node.example:443/rpc', index: 0, expected: 'https://node.example:443#0' },
    { url: 'http://node.example:80/rpc', index: 0, expected: 'http://node.example:80#0' },
    { url: 'http://node.example:443/rpc', index: 0, expected: 'http://node.example:443#0' },
    { url: 'https://node.example:80/rpc', index: 0, expected: 'https://node.example:80#0' },
    { url: 'HTTPS://Node.EXAMPLE/rpc', index: 4, expected: 'https://node.example:443#4' },
    { url: 'http://[::1]:8545/', index: 5, expected: 'http://[::1]:8545#5' },
    { url: 'https://[2001:db8::1]/', index: 6, expected: 'https://[2001:db8::1]:443#6' },
    { url: 'ws://node.example/', index: 7, expected: 'ws://node.example:80#7' },
    { url: 'wss://node.example/', index: 8, expected: 'wss://node.example:443#8' },
    { url: 'https://node.example/', index: 12, expected: 'https://node.example:443#12' },
  ])('$url #$index → $expected', ({ url, index, expected }) => {
    expect(endpointId(new URL(url), index)).toBe(expected)
  })

  it.each([
    { label: 'a plain name', name: 'alchemy-main' },
    { label: 'a name that looks like a URL', name: 'https://other.example:1#9' },
    { label: 'a name with spaces', name: 'Infura (archive)' },
  ])('the name wins: $label', ({ name }) => {
    expect(endpointId(new URL('https://user:pass@mainnet.example/v3/KEY?apikey=KEY'), 3, name)).toBe(name)
  })

  it('treats an explicitly undefined name as no name', () => {
    expect(endpointId(new URL('https://mainnet.example/'), 1, undefined)).toBe('https://mainnet.example:443#1')
  })

  it.each([
    'https://user:pass@host.example/v3/KEY?apikey=KEY',
    'https://user:pass@host.example:8443/v3/KEY?apikey=KEY#KEY',
    'http://KEY@host.example/KEY/KEY?KEY=KEY',
    'https://:pass@host.example/v3/KEY',
  ])('never shows path, query, fragment or userinfo: %s', (url) => {
    const id = endpointId(new URL(url), 0)
    expect(id).not.toMatch(/user|pass|KEY|apikey|@|\/v3|\?/)
    expect(id).toMatch(/^https?:\/\/host\.example:\d+#0$/)
  })
})
