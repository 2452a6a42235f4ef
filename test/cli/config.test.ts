import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/cli/config.js'

const files = (map: Record<string, string>) => async (path: string) => {
  if (path in map) return map[path]!
  throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' })
}

describe('CLI configuration', () => {
  const file = JSON.stringify({ endpoints: ['http://file-a', { url: 'http://file-b', tier: 'backup' }], attemptTimeout: 2_000, heartbeat: { interval: 500 } })
  const sources = (env: Record<string, string> = {}) => ({ env, readFile: files({ 'rpc.json': file }) })

  it('takes endpoints from --rpc first, then the environment, then the file; other options from the file', async () => {
    expect(await resolveConfig({ rpc: ['http://cli'], config: 'rpc.json' }, sources({ RESILIENT_RPC_URLS: 'http://env' }))).toEqual({
      endpoints: ['http://cli'],
      attemptTimeout: 2_000,
      heartbeat: { interval: 500 },
    })
    expect((await resolveConfig({ rpc: [], config: 'rpc.json' }, sources({ RESILIENT_RPC_URLS: 'http://env1, http://env2' }))).endpoints).toEqual(['http://env1', 'http://env2'])
    expect((await resolveConfig({ rpc: [], config: 'rpc.json' }, sources())).endpoints).toEqual(['http://file-a', { url: 'http://file-b', tier: 'backup' }])
  })

  it('takes the chain id from --chain-id over the file', async () => {
    const withChain = JSON.stringify({ endpoints: ['http://a'], chainId: 1 })
    const read = { env: {}, readFile: files({ 'chain.json': withChain }) }
    expect((await resolveConfig({ rpc: [], config: 'chain.json', chainId: 137n }, read)).chainId).toBe(137n)
    expect((await resolveConfig({ rpc: [], config: 'chain.json' }, read)).chainId).toBe(1)
    expect(await resolveConfig({ rpc: ['http://a'], config: undefined }, sources())).not.toHaveProperty('chainId')
  })

  it('uses one-second heartbeats unless the file says otherwise', async () => {
    expect(await resolveConfig({ rpc: ['http://a'], config: undefined }, sources())).toEqual({ endpoints: ['http://a'], heartbeat: { interval: 1_000, timeout: 1_500 } })
  })

  it.each([
    [{ rpc: [], config: undefined }, {}, 'no endpoints: give --rpc URL,URL,…, set RESILIENT_RPC_URLS, or use --config with an "endpoints" list'],
    [{ rpc: [], config: 'missing.json' }, {}, 'cannot read config file "missing.json" (ENOENT)'],
    [{ rpc: [], config: 'bad.json' }, { 'bad.json': '{"endpoints": [' }, /^config file "bad.json" is not valid JSON$/],
    // Where, never what: JSON.parse's own message quotes the text, and this text holds keys.
    [{ rpc: [], config: 'key.json' }, { 'key.json': '{"endpoints": [\n  "http://a/v3/k3y" "http://b"]}' }, /^config file "key.json" is not valid JSON \(line 2, column 21\)$/],
    [{ rpc: [], config: 'tok.json' }, { 'tok.json': '{"headers": Bearer t0k3n}' }, /^config file "tok.json" is not valid JSON$/],
    [{ rpc: [], config: 'list.json' }, { 'list.json': '["http://a"]' }, 'config file "list.json" must hold a JSON object with "endpoints" and pool options'],
    [{ rpc: [], config: 'typo.json' }, { 'typo.json': '{"endpoints": ["http://a"], "atemptTimeout": 5}' }, /^config file "typo.json": unknown option "atemptTimeout" \(allowed: endpoints, strategy, /],
    [{ rpc: ['http://a'], config: 'fn.json' }, { 'fn.json': '{"fetch": "x"}' }, /unknown option "fetch"/],
    [{ rpc: [], config: 'ep.json' }, { 'ep.json': '{"endpoints": "http://a"}' }, 'config file "ep.json": "endpoints" must be an array of URLs or endpoint objects'],
    [{ rpc: [], config: 'empty.json' }, { 'empty.json': '{"endpoints": []}' }, /^no endpoints/],
  ])('rejects %j', async (args, map, message) => {
    await expect(resolveConfig(args, { env: {}, readFile: files(map) })).rejects.toThrow(message)
  })
})
