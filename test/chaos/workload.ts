import { Interface, Wallet } from 'ethers'
import { createContract, type Pool } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import type { Anvil } from '../support/anvil.js'
import type { Capture } from './capture.js'

/** anvil's second dev account: the deployer (the first) never races the sender's nonces. */
export const SENDER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

export type RequestKind = 'blockNumber' | 'latest' | 'confirmed' | 'send' | 'probe'

/** One request of the workload, as the caller saw it. Times are `Date.now()`. */
export type RequestRecord = {
  kind: RequestKind
  method: string
  start: number
  end: number
  /** The request's deadline (ms). */
  timeout: number
  ok: boolean
  /** `eth_blockNumber` answers, for the monotonicity check. */
  block?: bigint
  error?: { code: string; message: string }
}

export type WorkloadOptions = {
  pool: Pool
  anvil: Anvil
  /** The Counter contract the sends ping. */
  address: string
  capture: Capture
  attemptTimeout: number
  /** Parallel read loops. @default 2 */
  readers?: number
  /** The contract's block: confirmation-depth reads start once it is that deep (earlier ones read no code). */
  deployedAt: bigint
  /** Pause between a read loop's requests (ms). @default 30 */
  readPause?: number
  /** Pause between sends (ms). @default 300 */
  sendPause?: number
  /** Called with each settled request (the soak counts instead of keeping them). */
  onRecord?: (r: RequestRecord) => void
  /** Keep records in `records`. @default true */
  keep?: boolean
}

export type Workload = {
  records: RequestRecord[]
  /** Requests started and not settled yet. */
  pending(): number
  /** Requests still pending `grace` ms after their deadline: lost, as far as a caller can tell. */
  overdue(grace: number): number
  /** Sends the pool acknowledged (their pings should be delivered by the watcher). */
  sent(): number
  /** A burst of `eth_blockNumber` probes every 50 ms until one succeeds (recovery measurement). */
  probeUntilServed(timeoutMs: number): Promise<void>
  /** Ends the loops and waits for every request in flight to settle. */
  stop(): Promise<void>
}

const iface = new Interface(counterAbi)
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Reads (latest state and `eth_blockNumber`), confirmation-depth reads and sends, in loops, with
 * deadlines mixed so that most are at least twice the attempt timeout (the invariant's class) and
 * some are shorter (only the overrun bound applies to those).
 */
export function startWorkload(o: WorkloadOptions): Workload {
  const { pool, anvil, address, capture } = o
  const records: RequestRecord[] = []
  const keep = o.keep ?? true
  const contract = createContract(pool, address, counterAbi)
  const wallet = new Wallet(SENDER_KEY)
  const inFlight = new Map<Promise<unknown>, { start: number; timeout: number }>()
  let stopped = false
  let sent = 0
  const a = o.attemptTimeout
  const deadlines = [2 * a, 3 * a, 2 * a, 3 * a, a / 2]

  const track = async <T>(kind: RequestKind, method: string, timeout: number, run: () => Promise<T>): Promise<T | undefined> => {
    const start = Date.now()
    const p = run()
    inFlight.set(p, { start, timeout })
    let record: RequestRecord
    let value: T | undefined
    try {
      value = await p
      record = { kind, method, start, end: Date.now(), timeout, ok: true }
      if (method === 'eth_blockNumber') record.block = BigInt(value as string)
    } catch (e) {
      capture.error(e)
      const err = e as { code?: string; message?: string }
      record = { kind, method, start, end: Date.now(), timeout, ok: false, error: { code: String(err.code ?? 'NOT_OURS'), message: String(err.message) } }
    } finally {
      inFlight.delete(p)
    }
    if (keep) records.push(record)
    o.onRecord?.(record)
    return value
  }

  const reader = async (worker: number) => {
    for (let i = worker; !stopped; i++) {
      const timeout = deadlines[i % deadlines.length]!
      const op = i % 4
      if (op === 0) await track('blockNumber', 'eth_blockNumber', timeout, () => pool.request<string>('eth_blockNumber', [], { timeout }))
      else if (op === 1) await track('latest', 'eth_getBalance', timeout, () => pool.request('eth_getBalance', [wallet.address, 'latest'], { timeout }))
      else if (op === 2) await track('latest', 'eth_call', timeout, () => contract.read('value', [], { timeout }))
      else await track('latest', 'eth_getTransactionCount', timeout, () => pool.request('eth_getTransactionCount', [wallet.address, 'latest'], { timeout }))
      await sleep(o.readPause ?? 30)
    }
  }

  const confirmed = async () => {
    while (!stopped && (pool.referenceHead() ?? 0n) < o.deployedAt + 2n) await sleep(100)
    for (let i = 0; !stopped; i++) {
      const timeout = deadlines[i % deadlines.length]!
      await track('confirmed', 'eth_call', timeout, () => contract.read('value', [], { confirmations: 2, timeout }))
      await sleep(100)
    }
  }

  const sender = async () => {
    for (let n = 0; !stopped; n++) {
      // The nonce from anvil itself: a send that failed at the pool may still have reached the node.
      const nonce = Number(await anvil.rpc<string>('eth_getTransactionCount', [wallet.address, 'pending']))
      const raw = await wallet.signTransaction({
        to: address,
        // ping(k) emits k events: 1–3 per send, so a block may hold several logs of one transaction.
        data: iface.encodeFunctionData('ping', [1 + (n % 3), `0x${n.toString(16).padStart(64, '0')}`]),
        nonce,
        gasLimit: 100_000,
        maxFeePerGas: 50_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
        chainId: 31337,
        type: 2,
      })
      const timeout = 3 * a
      const hash = await track('send', 'eth_sendRawTransaction', timeout, () => pool.request('eth_sendRawTransaction', [raw], { timeout }))
      if (hash !== undefined) sent++
      await sleep(o.sendPause ?? 300)
    }
  }

  const loops = [...Array.from({ length: o.readers ?? 2 }, (_, w) => reader(w)), confirmed(), sender()]

  return {
    records,
    pending: () => inFlight.size,
    overdue(grace) {
      const now = Date.now()
      return [...inFlight.values()].filter((r) => now > r.start + r.timeout + grace).length
    },
    sent: () => sent,
    async probeUntilServed(timeoutMs) {
      const until = Date.now() + timeoutMs
      let served = false
      const probes: Promise<unknown>[] = []
      while (!served && Date.now() < until) {
        const timeout = 2 * a
        probes.push(
          track('probe', 'eth_blockNumber', timeout, () => pool.request<string>('eth_blockNumber', [], { timeout })).then((v) => {
            if (v !== undefined) served = true
          }),
        )
        await sleep(50)
      }
      await Promise.all(probes)
    },
    async stop() {
      stopped = true
      await Promise.all(loops)
      await Promise.allSettled([...inFlight.keys()])
    },
  }
}
