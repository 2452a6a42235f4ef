import type { Behaviour, FetchCall } from './fakeFetch.js'

/** A block of the scripted chain: its hash made from its number, so any number is a block of it. */
export function scriptedBlock(n: number): { number: string; hash: string; parentHash: string; timestamp: string } {
  const hash = (k: number) => `0x${k.toString(16).padStart(64, '0')}`
  return { number: `0x${n.toString(16)}`, hash: hash(n), parentHash: hash(n - 1), timestamp: '0x0' }
}

/**
 * A node whose head is `head.n` (the test moves it): what the pool's subscriptions ask — the head,
 * blocks by number (null above the head) and by hash, logs (none) — answered from the scripted chain;
 * anything else `0x1`. For `fake.set(host, chainNode(head))`.
 */
export function chainNode(head: { n: number }): (call: FetchCall) => Behaviour {
  return (call) => {
    if (call.method === 'eth_blockNumber') return { kind: 'ok', result: `0x${head.n.toString(16)}` }
    if (call.method === 'eth_getBlockByNumber') {
      const tag = call.params[0] as string
      const n = tag === 'latest' ? head.n : Number(tag)
      return { kind: 'ok', result: n > head.n ? null : scriptedBlock(n) }
    }
    if (call.method === 'eth_getBlockByHash') return { kind: 'ok', result: scriptedBlock(Number(BigInt(call.params[0] as string))) }
    if (call.method === 'eth_getLogs') return { kind: 'ok', result: [] }
    return { kind: 'ok', result: '0x1' }
  }
}
