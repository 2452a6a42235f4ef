// A dApp page that reads a contract through a pool of public endpoints, straight from the browser.
// The endpoints come from the query string, so one page serves any set of RPC URLs:
//   index.html?rpc=https://a.example,https://b.example,wss://c.example&address=0x…
// Optional: `keepalive` (ms between WebSocket keepalive probes, default the pool's 10 000).
// Bundle it for browsers (examples/dapp/build.mjs); the bundler resolves `resilient-rpc` through the
// package's `browser` export condition, which runs on global fetch and WebSocket with no Node shims.
import { createContract, createPool, isResilientRpcError, type Pool, type PoolStats } from 'resilient-rpc'

/** A human-readable ABI fragment is enough for a read. */
const COUNTER_ABI = ['function value() view returns (uint256)']

/** One read, as the page (and a test driving it) sees it. */
export type DappRead = { ok: boolean; value?: string; ms: number; error?: string }

/** What the page has seen so far, JSON-friendly (block numbers and wei as decimal strings). */
export type DappResult = {
  status: 'starting' | 'ready' | 'error' | 'destroyed'
  /** The last value read. */
  value?: string
  reads: DappRead[]
  /** Head block numbers, in delivery order. */
  heads: string[]
  /** Where the heads subscription gets its heads from: a WebSocket endpoint's id, or `polling`. */
  headSource?: string
  /** Errors the page showed (redacted by the pool: endpoints appear by id, never by URL). */
  errors: string[]
  /** The endpoint table last rendered. */
  endpoints: Array<Record<string, string | number | null>>
}

declare global {
  interface Window {
    /** Machine-readable state, for tests and curious users. */
    __result: DappResult
    /** Handles to drive the page from outside (a test, or the console). */
    __dapp?: { read(): Promise<DappRead>; destroy(): Promise<void> }
  }
}

const $ = (id: string) => {
  const el = document.getElementById(id)
  if (!el) throw new Error(`missing #${id}`)
  return el
}

const result: DappResult = { status: 'starting', reads: [], heads: [], errors: [], endpoints: [] }
window.__result = result

function setStatus(text: string, kind: 'ok' | 'error' = 'ok') {
  const el = $('status')
  el.textContent = text
  el.dataset.kind = kind
}

function describe(error: unknown): string {
  if (isResilientRpcError(error)) return `${error.code}: ${error.shortMessage}`
  return error instanceof Error ? error.message : String(error)
}

function fail(error: unknown) {
  const text = describe(error)
  result.errors.push(text)
  result.status = 'error'
  setStatus(text, 'error')
}

function table(stats: PoolStats): DappResult['endpoints'] {
  const n = (x: bigint | undefined) => (x === undefined ? null : x.toString())
  return stats.endpoints.map((e) => ({
    endpoint: e.endpoint,
    status: e.status,
    breaker: e.breaker,
    head: n(e.head),
    lag: n(e.lag),
    inFlight: e.inFlight,
    latencyMs: e.latencyEwma === undefined ? null : Math.round(e.latencyEwma),
    served: e.served,
    failures: e.failures,
  }))
}

function render(pool: Pool) {
  result.endpoints = table(pool.stats())
  const body = $('endpoints')
  body.replaceChildren(
    ...result.endpoints.map((row) => {
      const tr = document.createElement('tr')
      for (const key of ['endpoint', 'status', 'breaker', 'head', 'lag', 'inFlight', 'latencyMs', 'served', 'failures']) {
        const td = document.createElement('td')
        td.textContent = String(row[key] ?? '–')
        tr.append(td)
      }
      return tr
    }),
  )
}

function main() {
  const query = new URLSearchParams(location.search)
  const urls = (query.get('rpc') ?? '').split(',').map((u) => u.trim()).filter(Boolean)
  const address = query.get('address') ?? ''
  const keepalive = query.get('keepalive')
  if (urls.length === 0 || address === '') {
    fail(new Error('give endpoints and a contract: ?rpc=URL,URL,…&address=0x…'))
    return
  }
  $('address').textContent = address

  // Invalid options throw here (InvalidOptionError), before any request leaves the page.
  const pool = createPool({
    endpoints: urls,
    ...(keepalive ? { webSocket: { keepalive: { interval: Number(keepalive) } } } : {}),
  })
  const counter = createContract(pool, address, COUNTER_ABI)
  const started = performance.now()

  const read = async (): Promise<DappRead> => {
    const t0 = performance.now()
    try {
      // The deadline covers every retry and failover: a hanging endpoint costs an attempt, not the page.
      const value = await counter.read<bigint>('value', [], { timeout: 10_000 })
      const done: DappRead = { ok: true, value: value.toString(), ms: Math.round(performance.now() - t0) }
      result.value = done.value
      $('value').textContent = done.value ?? ''
      result.reads.push(done)
      return done
    } catch (error) {
      const done: DappRead = { ok: false, error: describe(error), ms: Math.round(performance.now() - t0) }
      result.reads.push(done)
      fail(error)
      return done
    } finally {
      render(pool)
    }
  }

  pool.on('endpoint:state', () => render(pool))
  pool.on('subscription:source', (e) => {
    result.headSource = e.kind === 'websocket' ? e.endpoint : 'polling'
    $('source').textContent = `(via ${result.headSource})`
  })
  const unsubscribe = pool.subscribe(
    'newHeads',
    (head) => {
      const number = BigInt(head.number).toString()
      result.heads.push(number)
      $('head').textContent = number
      render(pool)
    },
    { onError: (error) => result.errors.push(describe(error)) },
  )
  // Latency and in-flight counts move between events: refresh the table once a second.
  const refresh = setInterval(() => render(pool), 1_000)

  window.__dapp = {
    read,
    async destroy() {
      clearInterval(refresh)
      unsubscribe()
      await pool.destroy()
      result.status = 'destroyed'
      setStatus('pool destroyed')
    },
  }

  render(pool)
  void read().then((first) => {
    if (!first.ok) return
    result.status = 'ready'
    setStatus(`read value() in ${first.ms} ms (${Math.round(performance.now() - started)} ms after start) over ${urls.length} endpoints`)
  })
}

try {
  main()
} catch (error) {
  fail(error)
}
