import { AbortedError } from '../errors/request.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import { isResilientRpcError } from '../errors/guard.js'
import { NetworkError } from '../errors/endpoint.js'
import type { ResilientRpcError } from '../errors/base.js'
import { unrefTimer, type Clock, type TimerHandle } from '../util/clock.js'
import { HeadTracker, toHeader, type BlockHeader, type BlockRef, type HeadsReorg, type SubscriptionGap } from './heads.js'
import { LogTracker, type LogFilter, type RpcLog } from './logs.js'
import { show } from '../util/show.js'
import { toQuantity } from '../util/hex.js'

export type SubscriptionKind = 'newHeads' | 'logs'

export type SubscribeOptions = {
  /** Ends the subscription when aborted (like calling the returned function). */
  signal?: AbortSignal
  /** Blocks delivered at most to fill a gap (after a reconnect, a failover or while polling); older ones are reported to `onGap`. @default 128 */
  maxBackfill?: number
  /** Polling interval when no WebSocket endpoint is up (ms). @default 1000 */
  pollInterval?: number
  /** A gap too long to backfill: what was skipped. */
  onGap?: (e: SubscriptionGap) => void
  /** A failure the subscription recovers from by itself (a backfill that failed is retried), or a listener that threw. */
  onError?: (error: ResilientRpcError) => void
}

export type HeadsSubscribeOptions = SubscribeOptions & {
  /** Delivered heads left the canonical chain; called before the heads that replace them. */
  onReorg?: (e: HeadsReorg) => void
}

export type LogsSubscribeOptions = SubscribeOptions & {
  /** A delivered log left the canonical chain (a reorg); called before its replacement, if any. */
  onRemoved?: (log: RpcLog) => void
}

/** Where a subscription's items come from now. */
export type SubscriptionSource = { kind: 'websocket'; endpoint: string } | { kind: 'polling' }

/** A live `eth_subscribe` on one endpoint. */
export type PushSubscription = {
  /** Stops notifications at once; never rejects. */
  unsubscribe(): Promise<void>
}

/** An endpoint that pushes notifications (a WebSocket endpoint that is up), as a subscription uses it. */
export type PushEndpoint = {
  /**
   * `eth_subscribe` with `params`; `onMessage` gets each notification's `result`. Resolves once the
   * node accepted it. The subscription comes back on every new connection (`onResubscribed`: what
   * was sent meanwhile is lost) until a new connection refuses it (`onError`).
   */
  subscribe(
    params: readonly unknown[],
    onMessage: (result: unknown) => void,
    options: { signal?: AbortSignal; onResubscribed?: () => void; onError?: (error: ResilientRpcError) => void },
  ): Promise<PushSubscription>
}

/** What a subscription needs from its pool: requests, and the WebSocket endpoints that are up. */
export type SubscriptionHost = {
  request(method: string, params: readonly unknown[], signal: AbortSignal): Promise<unknown>
  /** WebSocket endpoints that are up now, best first. */
  webSockets(): ReadonlyArray<{ id: string; transport: PushEndpoint }>
  /** Calls `listener` whenever an endpoint's status changes; returns the unsubscriber. */
  onChange(listener: () => void): () => void
  sourceChanged(id: number, source: SubscriptionSource): void
  /** Reports an error no callback took. */
  error(error: unknown): void
  clock: Clock
}

type Task = { kind: 'sync' } | { kind: 'item'; value: unknown }

// Items queued behind a slow backfill beyond this are dropped for one sync: it fetches them anyway.
const MAX_QUEUE = 256

const DEFAULTS = { maxBackfill: 128, pollInterval: 1_000 }

/**
 * One pool subscription: a WebSocket `eth_subscribe` on an up endpoint when there is one, else
 * polling, switching whenever endpoints change; every switch, reconnect or failure is followed by a
 * backfill, and a tracker delivers each head or log exactly once, in order. Returns the unsubscriber.
 */
export function createSubscription(
  host: SubscriptionHost,
  id: number,
  kind: SubscriptionKind,
  filter: LogFilter | undefined,
  listener: (item: never) => void,
  options: HeadsSubscribeOptions & LogsSubscribeOptions,
): () => void {
  const maxBackfill = options.maxBackfill ?? DEFAULTS.maxBackfill
  const pollInterval = options.pollInterval ?? DEFAULTS.pollInterval
  if (!Number.isInteger(maxBackfill) || maxBackfill < 1) throw new InvalidOptionError('maxBackfill', `expected an integer >= 1, got ${show(maxBackfill)}`)
  if (!Number.isFinite(pollInterval) || pollInterval < 10) throw new InvalidOptionError('pollInterval', `expected a number of ms >= 10, got ${show(pollInterval)}`)
  if (typeof listener !== 'function') throw new InvalidOptionError('listener', 'expected a function')

  const { clock } = host
  const stop = new AbortController()
  const signal = stop.signal
  const report = (error: unknown) => {
    const typed = isResilientRpcError(error) ? error : new NetworkError({ details: 'subscription callback threw', cause: error })
    if (!options.onError) return host.error(typed)
    try {
      options.onError(typed)
    } catch (thrown) {
      host.error(thrown)
    }
  }
  /** Callbacks run in the pump: a throw is reported, and delivery goes on. */
  const call = <A>(fn: ((a: A) => void) | undefined, arg: A) => {
    if (!fn) return
    try {
      fn(arg)
    } catch (error) {
      report(error)
    }
  }
  const deliver = listener as (item: unknown) => void
  const blockHash = async (n: bigint, s: AbortSignal) => ((await host.request('eth_getBlockByNumber', [toQuantity(n), false], s)) as { hash?: string } | null)?.hash

  const heads =
    kind === 'newHeads'
      ? new HeadTracker(
          (hash, s) => host.request('eth_getBlockByHash', [hash, false], s),
          { head: (h) => call(deliver, h), reorg: (e) => call(options.onReorg, e), gap: (e) => call(options.onGap, e) },
          maxBackfill,
          blockHash,
        )
      : undefined
  const logs =
    kind === 'logs'
      ? new LogTracker(
          {
            getLogs: (from, to, s) => host.request('eth_getLogs', [{ ...filter, fromBlock: toQuantity(from), toBlock: toQuantity(to) }], s),
            blockHash,
          },
          { log: (l) => call(deliver, l), removed: (l) => call(options.onRemoved, l), gap: (e) => call(options.onGap, e) },
          maxBackfill,
        )
      : undefined

  // ---- one worker: items and backfills are applied one at a time, in arrival order -------------
  const queue: Task[] = []
  let pumping = false
  let retryTimer: TimerHandle | undefined

  const enqueue = (task: Task) => {
    if (signal.aborted) return
    if (task.kind === 'sync' && queue.some((t) => t.kind === 'sync')) return
    if (queue.length >= MAX_QUEUE) {
      queue.length = 0
      queue.push({ kind: 'sync' })
    }
    queue.push(task)
    if (!pumping) void pump()
  }

  const pump = async () => {
    pumping = true
    try {
      while (queue.length > 0 && !signal.aborted) {
        const task = queue.shift()!
        try {
          await run(task)
        } catch (error) {
          if (signal.aborted) return
          report(error)
          // Whatever the failed task would have delivered, a later sync fetches.
          scheduleRetry()
        }
      }
    } finally {
      pumping = false
    }
  }

  const run = async (task: Task) => {
    if (heads) {
      const header = task.kind === 'item' ? task.value : await host.request('eth_getBlockByNumber', ['latest', false], signal)
      await heads.advance(toHeader(header), signal)
      return
    }
    if (task.kind === 'item') {
      if (logs!.live(task.value)) enqueue({ kind: 'sync' })
      return
    }
    const head = await host.request('eth_blockNumber', [], signal)
    if (typeof head !== 'string') throw new NetworkError({ details: `eth_blockNumber returned ${JSON.stringify(head)}` })
    await logs!.sync(BigInt(head), signal)
  }

  const scheduleRetry = () => {
    if (retryTimer !== undefined || signal.aborted) return
    retryTimer = timer(() => {
      retryTimer = undefined
      enqueue({ kind: 'sync' })
    }, pollInterval)
  }

  const timers = new Set<TimerHandle>()
  const timer = (fn: () => void, ms: number) => {
    const handle = clock.setTimeout(() => {
      timers.delete(handle)
      if (!signal.aborted) fn()
    }, ms)
    unrefTimer(handle)
    timers.add(handle)
    return handle
  }
  const clearTimer = (handle: TimerHandle | undefined) => {
    if (handle === undefined) return
    clock.clearTimeout(handle)
    timers.delete(handle)
  }

  // ---- the source: a WebSocket subscription if an endpoint offers one, else polling -----------
  type WsSource = { kind: 'websocket'; endpoint: string; sub: PushSubscription | undefined }
  let ws: WsSource | undefined
  let pollTimer: TimerHandle | undefined
  let reported: string | undefined
  // An endpoint that refused the subscription is not asked again until this time.
  const refused = new Map<string, number>()

  const announce = (source: SubscriptionSource) => {
    const key = source.kind === 'websocket' ? source.endpoint : 'polling'
    if (key === reported) return
    reported = key
    host.sourceChanged(id, source)
  }

  const poll = () => {
    if (pollTimer !== undefined || signal.aborted) return
    pollTimer = timer(() => {
      pollTimer = undefined
      enqueue({ kind: 'sync' })
      poll()
    }, pollInterval)
  }
  const stopPolling = () => {
    clearTimer(pollTimer)
    pollTimer = undefined
  }

  const dropWs = () => {
    if (ws === undefined) return
    void ws.sub?.unsubscribe()
    ws = undefined
  }

  const reconcile = () => {
    if (signal.aborted) return
    const now = clock.now()
    const candidates = host.webSockets().filter((w) => (refused.get(w.id) ?? 0) <= now)
    if (ws !== undefined && candidates.some((w) => w.id === ws!.endpoint)) return
    dropWs()
    const next = candidates[0]
    if (next === undefined) {
      if (pollTimer === undefined) enqueue({ kind: 'sync' })
      poll()
      announce({ kind: 'polling' })
      return
    }
    // Polling goes on until the WebSocket subscription is confirmed: no gap while it is set up.
    const source: WsSource = { kind: 'websocket', endpoint: next.id, sub: undefined }
    ws = source
    logs?.interrupt()
    const params = kind === 'newHeads' ? ['newHeads'] : ['logs', filter ?? {}]
    next.transport
      .subscribe(params, (value) => ws === source && enqueue({ kind: 'item', value }), {
        signal,
        // The node forgot the subscription while the socket was away: what it sent meanwhile is lost.
        onResubscribed: () => {
          if (ws !== source) return
          logs?.interrupt()
          enqueue({ kind: 'sync' })
        },
        onError: (error) => {
          if (ws !== source) return
          report(error)
          ws = undefined
          reconcile()
        },
      })
      .then(
        (sub) => {
          if (ws !== source) return void sub.unsubscribe()
          source.sub = sub
          stopPolling()
          announce({ kind: 'websocket', endpoint: next.id })
          enqueue({ kind: 'sync' })
        },
        (error: unknown) => {
          if (ws !== source || signal.aborted) return
          ws = undefined
          refused.set(next.id, clock.now() + pollInterval * 10)
          report(error)
          reconcile()
          // Come back to it once its refusal has expired, even if nothing else changes.
          timer(reconcile, pollInterval * 10 + 1)
        },
      )
  }

  let offChange = () => {}
  const end = () => {
    if (signal.aborted) return
    stop.abort(new AbortedError({ details: 'unsubscribed' }))
    offChange()
    for (const handle of timers) clock.clearTimeout(handle)
    timers.clear()
    dropWs()
    queue.length = 0
    options.signal?.removeEventListener('abort', end)
  }
  if (options.signal?.aborted) {
    end()
    return end
  }
  options.signal?.addEventListener('abort', end, { once: true })
  offChange = host.onChange(reconcile)
  reconcile()
  return end
}


export type { BlockHeader, BlockRef, HeadsReorg, SubscriptionGap, LogFilter, RpcLog }
