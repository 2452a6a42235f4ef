import { describe, expect, it } from 'vitest'
import { CanonicalChain } from '../../src/events/chain.js'
import type { BlockHeader } from '../../src/subscriptions/heads.js'

const h = (n: number, branch = 'a') => `0x${branch.repeat(2)}${n.toString(16).padStart(62, '0')}`
const header = (n: number, branch = 'a', parentBranch = branch): BlockHeader => ({ number: `0x${n.toString(16)}`, hash: h(n, branch), parentHash: h(n - 1, parentBranch) })

/** A fake `eth_getBlockByHash` over branch `a`, counting calls. */
function fetcher() {
  const calls: string[] = []
  const fetch = async (hash: string) => {
    calls.push(hash)
    const n = parseInt(hash.slice(4), 16)
    return header(n)
  }
  return { fetch, calls }
}

describe('CanonicalChain', () => {
  it('follows heads that link and knows their hashes', () => {
    const c = new CanonicalChain(10)
    for (let n = 5; n <= 8; n++) c.add(header(n))
    expect(c.tip).toBe(8n)
    expect(c.hash(6n)).toBe(h(6))
    expect(c.settledAt).toBe(-2n)
  })

  it('walks parents by hash to reach a block below the first head, and no further than the window', async () => {
    const c = new CanonicalChain(5)
    c.add(header(20))
    const { fetch, calls } = fetcher()
    const signal = new AbortController().signal
    expect(await c.resolve(17n, fetch, signal)).toBe(h(17))
    // 19's hash is 20's parent: no fetch; 18 and 17 need 19's and 18's headers.
    expect(calls).toEqual([h(19), h(18)])
    expect(await c.resolve(18n, fetch, signal)).toBe(h(18))
    expect(calls).toHaveLength(2)
    expect(await c.resolve(15n, fetch, signal)).toBeUndefined() // 20 - 5: settled, not ours to check
    expect(await c.resolve(21n, fetch, signal)).toBeUndefined()
  })

  it('a block that comes back as another one is an INVALID_RESPONSE', async () => {
    const c = new CanonicalChain(5)
    c.add(header(20))
    await expect(c.resolve(18n, async () => header(18, 'b'), new AbortController().signal)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' })
  })

  it('a reorg notice drops the removed blocks and everything above; the replacement links to the ancestor', () => {
    const c = new CanonicalChain(10)
    for (let n = 1; n <= 6; n++) c.add(header(n))
    c.remove([{ number: 5n, hash: h(5) }, { number: 6n, hash: h(6) }])
    expect(c.tip).toBe(4n)
    expect(c.hash(5n)).toBeUndefined()
    c.add(header(5, 'b', 'a'))
    expect(c.hash(5n)).toBe(h(5, 'b'))
    expect(c.hash(4n)).toBe(h(4))
  })

  it('a head that does not link (a gap) starts a new run; a walk that raced a change gives up', async () => {
    const c = new CanonicalChain(10)
    c.add(header(1))
    c.add(header(2))
    c.add(header(9))
    expect(c.hash(2n)).toBeUndefined()
    let release: () => void = () => {}
    const slow = (hash: string) => new Promise<BlockHeader>((r) => (release = () => r(header(parseInt(hash.slice(4), 16)))))
    const walk = c.resolve(7n, slow, new AbortController().signal)
    c.remove([{ number: 9n, hash: h(9) }])
    release()
    expect(await walk).toBeUndefined()
  })
})
