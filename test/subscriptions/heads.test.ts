import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { InvalidResponseError } from '../../src/errors/endpoint.js'
import { isResilientRpcError } from '../../src/errors/guard.js'
import { HeadTracker, toHeader, type BlockHeader, type BlockRef, type HeadsReorg, type SubscriptionGap } from '../../src/subscriptions/heads.js'

// HeadTracker against an in-memory block tree: every block ever made (forks included) can be fetched
// by hash, as a node that has seen them would answer.

const hex = (n: number | bigint) => `0x${n.toString(16)}`

class Chain {
  readonly byHash = new Map<string, BlockHeader>()
  #next = 1

  genesis(): BlockHeader {
    return this.#add(0, `0x${'0'.repeat(64)}`)
  }
  child(parent: BlockHeader): BlockHeader {
    return this.#add(Number(BigInt(parent.number)) + 1, parent.hash)
  }
  /** `count` blocks on top of `from`, oldest first. */
  grow(from: BlockHeader, count: number): BlockHeader[] {
    const out: BlockHeader[] = []
    let tip = from
    for (let i = 0; i < count; i++) out.push((tip = this.child(tip)))
    return out
  }
  /** `from` and its ancestors, oldest first. */
  ancestry(from: BlockHeader): BlockHeader[] {
    const out: BlockHeader[] = []
    for (let b: BlockHeader | undefined = from; b !== undefined; b = this.byHash.get(b.parentHash)) out.unshift(b)
    return out
  }
  #add(number: number, parentHash: string): BlockHeader {
    const block = { number: hex(number), hash: `0x${(this.#next++).toString(16).padStart(64, 'f')}`, parentHash, timestamp: hex(1_700_000_000 + number) }
    this.byHash.set(block.hash, block)
    return block
  }
}

type Event = { head: BlockRef } | { reorg: HeadsReorg } | { gap: SubscriptionGap }
const ref = (b: BlockHeader): BlockRef => ({ number: BigInt(b.number), hash: b.hash })

/** `tip`: the canonical chain's tip, for the tracker's question "which block is at height n now?". */
function setup(chain: Chain, maxBackfill = 16, tip?: BlockHeader) {
  const events: Event[] = []
  const fetched: string[] = []
  let failOn: string | undefined
  const fetch = vi.fn(async (hash: string, _signal: AbortSignal): Promise<unknown> => {
    fetched.push(hash)
    if (hash === failOn) throw new Error(`fetch of ${hash} failed`)
    return chain.byHash.get(hash) ?? null
  })
  const tracker = new HeadTracker(fetch, {
    head: (h) => events.push({ head: ref(h) }),
    reorg: (e) => events.push({ reorg: e }),
    gap: (e) => events.push({ gap: e }),
  }, maxBackfill, tip && (async (n: bigint) => chain.ancestry(tip)[Number(n)]?.hash))
  const signal = new AbortController().signal
  const feed = async (...heads: BlockHeader[]) => {
    for (const h of heads) await tracker.advance(h, signal)
  }
  return { tracker, events, fetched, fetch, feed, signal, failOn: (hash: string | undefined) => void (failOn = hash) }
}

const heads = (...blocks: BlockHeader[]): Event[] => blocks.map((b) => ({ head: ref(b) }))

describe('HeadTracker', () => {
  it('delivers the first head as is, without fetching anything', async () => {
    const chain = new Chain()
    const [, , b2] = [chain.genesis(), ...chain.grow(chain.genesis(), 2)]
    const t = setup(chain)
    await t.feed(b2!)
    expect(t.events).toEqual(heads(b2!))
    expect(t.tracker.last).toEqual(ref(b2!))
    expect(t.fetch).not.toHaveBeenCalled()
  })

  it('delivers consecutive heads in order, without fetching', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 5)
    const t = setup(chain)
    await t.feed(...blocks)
    expect(t.events).toEqual(heads(...blocks))
    expect(t.fetch).not.toHaveBeenCalled()
  })

  it('ignores duplicates and heads older than the last one that are already delivered or out of reach', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 20)
    const t = setup(chain, 4)
    await t.feed(...blocks.slice(0, 10)) // numbers 1..10
    const before = [...t.events]
    await t.feed(blocks[9]!, blocks[9]!, blocks[8]!, blocks[7]!, blocks[2]!, blocks[0]!)
    expect(t.events).toEqual(before)
    expect(t.tracker.last).toEqual(ref(blocks[9]!))
    expect(t.fetch).not.toHaveBeenCalled()
  })

  it('fills a gap by fetching the missed parents, newest first, and delivers them oldest first', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 14)
    const t = setup(chain, 16)
    await t.feed(blocks[9]!) // 10
    await t.feed(blocks[13]!) // 14
    expect(t.fetched).toEqual([blocks[12]!.hash, blocks[11]!.hash, blocks[10]!.hash])
    expect(t.events).toEqual(heads(...blocks.slice(9, 14)))
    // The fetched parents count as delivered: feeding them again changes nothing.
    await t.feed(blocks[11]!, blocks[12]!)
    expect(t.events).toHaveLength(5)
  })

  it('a reorg at the tip (same height, other hash): a reorg notice with the ancestor and the removed block, then the new head', async () => {
    const chain = new Chain()
    const [b1, b2, b3] = chain.grow(chain.genesis(), 3)
    const b3x = chain.child(b2!)
    const b4x = chain.child(b3x)
    const t = setup(chain)
    await t.feed(b1!, b2!, b3!, b3x, b4x)
    expect(t.events).toEqual([...heads(b1!, b2!, b3!), { reorg: { ancestor: ref(b2!), removed: [ref(b3!)] } }, ...heads(b3x, b4x)])
    expect(t.fetch).not.toHaveBeenCalled()
  })

  it('a deeper reorg seen through a higher head: the new branch is fetched back to the common ancestor', async () => {
    const chain = new Chain()
    const [b1, b2, b3, b4] = chain.grow(chain.genesis(), 4)
    const [b2x, b3x, b4x, b5x] = chain.grow(b1!, 4)
    const t = setup(chain)
    await t.feed(b1!, b2!, b3!, b4!, b5x!)
    expect(t.fetched).toEqual([b4x!.hash, b3x!.hash, b2x!.hash])
    expect(t.events).toEqual([
      ...heads(b1!, b2!, b3!, b4!),
      { reorg: { ancestor: ref(b1!), removed: [ref(b2!), ref(b3!), ref(b4!)] } },
      ...heads(b2x!, b3x!, b4x!, b5x!),
    ])
  })

  it('a reorg to a shorter chain: blocks above the new head are removed too', async () => {
    const chain = new Chain()
    const [b1, b2, b3, b4] = chain.grow(chain.genesis(), 4)
    const b3x = chain.child(b2!)
    const t = setup(chain)
    await t.feed(b1!, b2!, b3!, b4!, b3x)
    expect(t.events).toEqual([...heads(b1!, b2!, b3!, b4!), { reorg: { ancestor: ref(b2!), removed: [ref(b3!), ref(b4!)] } }, ...heads(b3x)])
    expect(t.tracker.last).toEqual(ref(b3x))
    // The old, longer branch's tip comes back: it is linked to the block it extends and re-delivered.
    await t.feed(b4!)
    expect(t.events.slice(-3)).toEqual([{ reorg: { ancestor: ref(b2!), removed: [ref(b3x)] } }, ...heads(b3!, b4!)])
  })

  it('a gap longer than maxBackfill: a gap notice with exact bounds, the last maxBackfill blocks, then delivery resumes', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 40) // blocks[i] is number i + 1
    const t = setup(chain, 4)
    await t.feed(blocks[9]!) // 10
    await t.feed(blocks[29]!) // 30
    expect(t.fetch.mock.calls.length).toBeLessThanOrEqual(4)
    expect(t.events).toEqual([
      ...heads(blocks[9]!),
      { gap: { from: 11n, to: 26n, reason: 'more than maxBackfill (4) blocks missed' } },
      ...heads(...blocks.slice(26, 30)), // 27..30
    ])
    await t.feed(blocks[30]!, blocks[32]!)
    expect(t.events.slice(6)).toEqual(heads(blocks[30]!, blocks[31]!, blocks[32]!))
  })

  it('a gap shorter than maxBackfill is filled without a gap notice', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 20)
    const t = setup(chain, 4)
    await t.feed(blocks[9]!, blocks[12]!) // 10, then 13: 11 and 12 missed
    expect(t.events).toEqual(heads(...blocks.slice(9, 13)))
  })

  it('a failed parent fetch rejects with nothing delivered past the last consistent head; a retry delivers each block once', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 15)
    const t = setup(chain)
    await t.feed(blocks[9]!) // 10
    t.failOn(blocks[11]!.hash) // 12, the second parent fetched
    await expect(t.feed(blocks[13]!)).rejects.toThrow(`fetch of ${blocks[11]!.hash} failed`)
    expect(t.events).toEqual(heads(blocks[9]!))
    expect(t.tracker.last).toEqual(ref(blocks[9]!))
    t.failOn(undefined)
    await t.feed(blocks[13]!)
    await t.feed(blocks[13]!, blocks[12]!, blocks[14]!)
    expect(t.events).toEqual(heads(...blocks.slice(9, 15)))
  })

  it('a fetch answering another block than the one asked for rejects with InvalidResponseError and delivers nothing', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 6)
    const other = chain.grow(chain.genesis(), 6)
    const t = setup(chain)
    await t.feed(blocks[1]!) // 2
    t.fetch.mockImplementationOnce(async () => other[3]) // asked for blocks[3] (4), answered with a sibling
    const error = await t.feed(blocks[4]!).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidResponseError)
    expect(isResilientRpcError(error, 'INVALID_RESPONSE')).toBe(true)
    t.fetch.mockImplementationOnce(async () => blocks[1]) // right hash field set aside, wrong number
    await expect(t.feed(blocks[4]!)).rejects.toBeInstanceOf(InvalidResponseError)
    t.fetch.mockImplementationOnce(async () => null) // the node does not know it
    await expect(t.feed(blocks[4]!)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' })
    expect(t.events).toEqual(heads(blocks[1]!))
  })

  it('an abort during a parent fetch rejects with the reason and delivers nothing', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 6)
    const t = setup(chain)
    await t.feed(blocks[0]!)
    const controller = new AbortController()
    const reason = new Error('stop')
    t.fetch.mockImplementationOnce(async (hash) => {
      controller.abort(reason)
      return chain.byHash.get(hash)
    })
    await expect(t.tracker.advance(blocks[3]!, controller.signal)).rejects.toBe(reason)
    expect(t.events).toEqual(heads(blocks[0]!))
  })

  it('a hash compared case-insensitively when checking a fetched parent', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 4)
    const t = setup(chain)
    await t.feed(blocks[0]!)
    t.fetch.mockImplementationOnce(async (hash) => ({ ...chain.byHash.get(hash)!, hash: hash.toUpperCase().replace('0X', '0x') }))
    await t.feed(blocks[2]!)
    expect(t.events.map((e) => ('head' in e ? e.head.number : -1n))).toEqual([1n, 2n, 3n])
  })
})

describe('toHeader', () => {
  const hash = (c: string) => `0x${c.repeat(64)}`
  const good = { number: '0x1a', hash: hash('a'), parentHash: hash('b'), miner: '0x00' }

  it('returns a header with the same fields', () => {
    expect(toHeader(good)).toEqual(good)
  })

  it('spells hashes in lower case, so one block from two sources compares equal', () => {
    const upper = { ...good, hash: good.hash.toUpperCase().replace('0X', '0x'), parentHash: good.parentHash.toUpperCase().replace('0X', '0x') }
    expect(toHeader(upper)).toEqual(good)
  })

  it('strips a full block of its transactions and uncles, keeping the other fields', () => {
    const full = { ...good, transactions: [{ hash: hash('c') }], uncles: [], gasUsed: '0x5' }
    const header = toHeader(full)
    expect(header).toEqual({ ...good, gasUsed: '0x5' })
    expect('transactions' in header || 'uncles' in header).toBe(false)
    expect(full.transactions).toHaveLength(1) // the caller's object is left alone
  })

  it.each([
    ['null', null],
    ['a string', '0x1'],
    ['a missing number', { hash: hash('a'), parentHash: hash('b') }],
    ['a decimal number', { ...good, number: '26' }],
    ['a numeric number', { ...good, number: 26 }],
    ['a short hash', { ...good, hash: '0xabc' }],
    ['a hash without 0x', { ...good, hash: 'a'.repeat(64) }],
    ['a non-hex parentHash', { ...good, parentHash: `0x${'g'.repeat(64)}` }],
    ['a missing parentHash', { number: '0x1', hash: hash('a') }],
  ])('rejects %s with INVALID_RESPONSE naming the endpoint', (_what, value) => {
    let error: unknown
    try {
      toHeader(value, 'node#0')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidResponseError)
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', endpoint: 'node#0' })
  })
})

// ---- property: any feed of heads yields the canonical chain, once, after applying reorg notices ----

type Step = { kind: 'grow' } | { kind: 'reorg'; depth: number; length: number }
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'grow' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reorg' as const), depth: fc.integer({ min: 1, max: 5 }), length: fc.integer({ min: 1, max: 7 }) }) },
)

/** Builds the block tree; returns every head a node would have announced, in time order, and the final tip. */
function build(chain: Chain, steps: readonly Step[]) {
  let tip = chain.genesis()
  const announced: BlockHeader[] = [tip]
  for (const step of steps) {
    if (step.kind === 'grow') {
      announced.push((tip = chain.child(tip)))
      continue
    }
    const ancestry = chain.ancestry(tip)
    const base = ancestry[Math.max(0, ancestry.length - 1 - step.depth)]!
    for (const b of chain.grow(base, step.length)) announced.push((tip = b))
  }
  return { announced, tip }
}

/** Applies the tracker's output to a list, checking each notice is consistent with what it holds. */
function applied(events: readonly Event[]) {
  const list: BlockRef[] = []
  for (const e of events) {
    if ('gap' in e) throw new Error(`unexpected gap ${e.gap.from}..${e.gap.to}`)
    if ('reorg' in e) {
      const { ancestor, removed } = e.reorg
      expect(removed.length).toBeGreaterThan(0)
      expect(list.slice(-removed.length)).toEqual(removed)
      list.length -= removed.length
      if (ancestor !== undefined) expect(list.at(-1)).toEqual(ancestor)
      continue
    }
    // A number already in the list was not removed in between: that is a second delivery.
    expect(list.some((b) => b.number === e.head.number)).toBe(false)
    if (list.length > 0) expect(e.head.number).toBe(list.at(-1)!.number + 1n)
    list.push(e.head)
  }
  return list
}

async function checkFeed(chain: Chain, feed: readonly BlockHeader[], tip: BlockHeader) {
  const t = setup(chain, 256, tip)
  await t.feed(...feed, tip)
  const first = t.events.find((e): e is { head: BlockRef } => 'head' in e)!.head
  // What remains is the canonical chain up to the tip, from the first delivered height, or from lower
  // when the chain got shorter than that height (every delivered block was removed, the new tip delivered).
  const list = applied(t.events)
  const start = list[0]!.number
  expect(start <= first.number).toBe(true)
  expect(list).toEqual(chain.ancestry(tip).filter((b) => BigInt(b.number) >= start).map(ref))
  expect(t.tracker.last).toEqual(ref(tip))
}

describe('HeadTracker property', () => {
  it('from genesis, random subsets and local reorderings of the heads announced through growth and reorgs (depth <= 5) yield the canonical chain', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.infiniteStream(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 }))), async (steps, coins) => {
        const chain = new Chain()
        const { announced, tip } = build(chain, steps)
        // Keep a random subset; each head is late by 0..4 positions, which reorders neighbours.
        const picked = announced
          .slice(1)
          .map((b, i) => ({ b, ...((([keep, delay]) => ({ keep, at: i + delay }))(coins.next().value as [boolean, number])) }))
          .filter((x) => x.keep)
          .sort((x, y) => x.at - y.at)
          .map((x) => x.b)
        await checkFeed(chain, [announced[0]!, ...picked], tip)
      }),
      { numRuns: 300 },
    )
  })
})

describe('HeadTracker: heads it cannot link', () => {
  it('a canonical head older than the first delivered one (a lagging source) is ignored, not taken for a reorg', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 12)
    const t = setup(chain, 128, blocks[11])
    await t.feed(blocks[9]!) // 10
    await t.feed(blocks[7]!) // 8, from a node two blocks behind
    expect(t.events).toEqual(heads(blocks[9]!))
    expect(t.tracker.last).toEqual(ref(blocks[9]!))
  })

  it('a canonical head exactly maxBackfill below the tip is ignored like any older one', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 20)
    const t = setup(chain, 3)
    await t.feed(...blocks) // 1..20
    const before = [...t.events]
    await t.feed(blocks[16]!) // 17 = 20 - maxBackfill
    expect(t.events).toEqual(before)
  })

  it('a reorg deeper than the window reports every remembered block that left the chain', async () => {
    const chain = new Chain()
    const blocks = chain.grow(chain.genesis(), 20)
    const fork = chain.grow(blocks[16]!, 4) // 18'..21' on top of 17
    const t = setup(chain, 3)
    await t.feed(...blocks) // remembers 18, 19, 20
    await t.feed(fork[3]!) // 21'
    const reorg = t.events.find((e): e is { reorg: HeadsReorg } => 'reorg' in e)
    // 18 is known to be gone: 19'.parentHash is 18', not the delivered 18.
    expect(reorg?.reorg.removed).toEqual([ref(blocks[17]!), ref(blocks[18]!), ref(blocks[19]!)])
  })

  it('property: any first head, then random subsets and reorderings, yield the canonical chain from the first delivered head', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.infiniteStream(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 }))), async (steps, coins) => {
        const chain = new Chain()
        const { announced, tip } = build(chain, steps)
        const picked = announced
          .map((b, i) => ({ b, ...((([keep, delay]) => ({ keep, at: i + delay }))(coins.next().value as [boolean, number])) }))
          .filter((x) => x.keep)
          .sort((x, y) => x.at - y.at)
          .map((x) => x.b)
        await checkFeed(chain, picked, tip)
      }),
      { numRuns: 300 },
    )
  })
})
