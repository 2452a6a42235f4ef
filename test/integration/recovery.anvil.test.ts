import { describe, expect, it } from 'vitest'
import type { Pool } from '../../src/index.js'
import { waitFor } from '../support/async.js'
import type { FaultProxy } from '../support/faultProxy.js'
import { useProxiedAnvil } from '../support/proxiedAnvil.js'
import type { WsFaultProxy } from '../support/wsFaultProxy.js'

// Recovery on demand: every endpoint out while requests keep coming, then the endpoints come back.
// Each comes back at the worst moment for a pool that probes only on its heartbeat interval and
// reconnects only on its back-off — just after it swallowed a ping (HTTP, hung) or refused a
// reconnect (WebSocket) — so only probing while requests wait can serve them within a second. Default
// options; the bound is the one the pool promises (1 s), held by design with margin (a probe every
// 250 ms, measured ~300 ms), not tuned to this machine.

const node = useProxiedAnvil({ http: 2, ws: 2 })

const RECOVERY_BOUND = 1_000

type Outcome = { ok: boolean; at: number; error?: unknown }

/**
 * A balance read every 50 ms, each under the default deadline (30 s): four times the retry budget's
 * floor (5 a second), so the retries of the requests an outage catches in flight — a hung endpoint
 * swallows seconds of them before it is known to hang — are more than the budget would allow as
 * extra load. They are not extra load (see Retries#charged), and every one must succeed.
 * `stop()` ends the stream and resolves with every outcome.
 */
function stream(p: Pool): { stop(): Promise<Outcome[]> } {
  const requests: Array<Promise<Outcome>> = []
  const send = () => {
    const address = `0x${(requests.length + 1).toString(16).padStart(40, '0')}`
    requests.push(
      p.request('eth_getBalance', [address, 'latest']).then(
        () => ({ ok: true, at: Date.now() }),
        (error: unknown) => ({ ok: false, at: Date.now(), error }),
      ),
    )
  }
  send()
  const timer = setInterval(send, 50)
  return {
    stop() {
      clearInterval(timer)
      return Promise.all(requests)
    },
  }
}

/** Resolves when `count()` next moves, polled every millisecond (the proxies tell no events). */
async function nextArrival(count: () => number): Promise<void> {
  const before = count()
  while (count() === before) await new Promise((r) => setTimeout(r, 1))
}

const statuses = (p: Pool) => p.stats().endpoints.map((e) => e.status)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

/**
 * Takes every endpoint out with `down`; with requests streaming in, waits until the pool has marked
 * them all down and `outage` ms have passed; then lets each proxy back right after `refused` next moves.
 * Returns when the first came back (the stream ends then: only requests sent during the outage count),
 * every outcome, and the breakers that opened after the recovery.
 */
async function outageThenRecovery<P extends FaultProxy | WsFaultProxy>(
  p: Pool,
  proxies: P[],
  { down, outage, refused }: { down: (proxy: P) => void; outage: number; refused: (proxy: P) => number },
) {
  const opened: Array<{ endpoint: string; at: number }> = []
  p.on('circuit:open', (e) => opened.push({ endpoint: e.endpoint, at: Date.now() }))
  const start = Date.now()
  proxies.forEach(down)
  const run = stream(p)
  await waitFor(() => statuses(p).every((s) => s === 'down'), 'every endpoint to be down', 15_000)
  await sleep(start + outage - Date.now())
  const back = proxies.map((proxy) => nextArrival(() => refused(proxy)).then(() => (proxy.setMode({ kind: 'pass' }), Date.now())))
  const recovered = await Promise.race(back)
  const results = await run.stop()
  await Promise.all(back)
  const first = Math.min(...results.map((r) => r.at).filter((at) => at >= recovered))
  return { results, firstSuccess: first - recovered, openedAfter: opened.filter((o) => o.at >= recovered).map((o) => o.endpoint) }
}

describe('recovery on demand', () => {
  it('HTTP endpoints hung for 5 s: the first waiting request succeeds within 1 s of one coming back, and every request succeeds', async () => {
    const p = await node.pool({ endpoints: node.http }, { ready: 2 })
    const { results, firstSuccess, openedAfter } = await outageThenRecovery(p, node.http, {
      down: (proxy) => proxy.setMode({ kind: 'hang' }),
      outage: 5_000,
      // A request reaching a hung proxy stays hung, whatever mode follows.
      refused: (proxy) => proxy.count(),
    })
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([])
    expect(firstSuccess).toBeLessThan(RECOVERY_BOUND)
    // Attempts the hung endpoints held time out after they came back: a connection gone since, not news.
    expect(openedAfter).toEqual([])
    console.info(`HTTP hung 5 s: first success ${firstSuccess} ms after recovery (${results.length} requests)`)
  }, 60_000)

  it('WebSocket endpoints dropped and refusing for 3 s: the first waiting request succeeds within 1 s of one coming back, and every request succeeds', async () => {
    const p = await node.pool({ endpoints: node.ws }, { ready: 2 })
    const { results, firstSuccess } = await outageThenRecovery(p, node.ws, {
      down: (proxy) => proxy.setMode({ kind: 'drop' }),
      outage: 3_000,
      refused: (proxy) => proxy.refused(),
    })
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([])
    expect(firstSuccess).toBeLessThan(RECOVERY_BOUND)
    console.info(`WebSocket dropped 3 s: first success ${firstSuccess} ms after recovery (${results.length} requests)`)
  }, 60_000)

  it('a dead endpoint is probed about every 250 ms while requests wait, and once per heartbeat interval when none needs it', async () => {
    const interval = 1_000
    const p = await node.pool({ endpoints: node.http, heartbeat: { interval, timeout: 500, jitter: 0 } }, { ready: 2 })
    const [A, B] = node.http as [FaultProxy, FaultProxy]
    A.setMode({ kind: 'hang' })
    B.setMode({ kind: 'reset' })
    const run = stream(p)
    await waitFor(() => statuses(p).every((s) => s === 'down'), 'both endpoints to be down')
    // 1. Requests wait: B is asked every 250 ms (each probe refused at once), never more often; at
    // its interval it would be asked at most 3 times in 2 s. Bounds are over the time actually
    // measured: a loaded machine stretches the sleeps.
    B.resetCounts()
    let since = Date.now()
    await sleep(2_000)
    const eager = B.count()
    expect(eager).toBeGreaterThanOrEqual(5)
    expect(eager).toBeLessThanOrEqual(Math.floor((Date.now() - since) / 250) + 1)
    // 2. A is back and serves everything: nobody waits, B gets one probe per interval over five,
    // with a request going to A every 100 ms all along.
    A.setMode({ kind: 'pass' })
    expect((await run.stop()).filter((r) => !r.ok)).toEqual([])
    B.resetCounts()
    since = Date.now()
    const served: Array<Promise<unknown>> = []
    for (let i = 0; i < 50; i++) {
      served.push(p.request('eth_getBalance', [`0x${(i + 1).toString(16).padStart(40, '0')}`, 'latest']))
      await sleep(100)
    }
    await Promise.all(served)
    const idle = B.count()
    expect(idle).toBeLessThanOrEqual(Math.floor((Date.now() - since) / interval) + 1)
    console.info(`dead endpoint: ${eager} probes in 2 s while requests waited, ${idle} in ${Date.now() - since} ms (heartbeat interval ${interval} ms) when none did`)
  }, 60_000)
})
