import { InvalidResponseError } from '../errors/endpoint.js'
import type { ResilientRpcErrorOptions } from '../errors/base.js'
import type { Clock, TimerHandle } from '../util/clock.js'
import type { Transport } from './transport.js'
import { encodeRequest, unwrapResponse } from './jsonrpc.js'
import type { BatchOptions } from '../config/policyOptions.js'

type Item = {
  id: number
  method: string
  params: readonly unknown[]
  paramsJson: string | undefined
  signal: AbortSignal
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  /** Settled already (answered, or its caller aborted): whatever comes later is ignored. */
  done: boolean
  onAbort: () => void
}

type Io = {
  nextId(): number
  post(body: string, signal: AbortSignal): Promise<{ status: number; ok: boolean; parsed: unknown }>
  single(method: string, params: readonly unknown[], signal: AbortSignal, paramsJson?: string): Promise<unknown>
  errorOptions: ResilientRpcErrorOptions
  clock: Clock
}

/**
 * Collects the requests made to one endpoint within a short window into JSON-RPC batches. Each caller
 * keeps its own signal: an aborted caller is answered at once, and the batch's HTTP request is
 * aborted only when every caller in it has gone. A batch the endpoint refuses as a batch (a non-array
 * answer, an HTTP error) is split and each request sent on its own; a failed item fails only its
 * own caller.
 */
export function createBatcher(options: Required<BatchOptions>, io: Io): Transport {
  let queue: Item[] = []
  let timer: TimerHandle | undefined

  const flush = () => {
    if (timer !== undefined) io.clock.clearTimeout(timer)
    timer = undefined
    const items = queue.filter((item) => !item.done)
    queue = []
    if (items.length === 1) return sendAlone(items[0]!)
    if (items.length > 1) void sendBatch(items)
  }

  const settle = (item: Item, outcome: { value: unknown } | { error: unknown }) => {
    if (item.done) return
    item.done = true
    item.signal.removeEventListener('abort', item.onAbort)
    if ('value' in outcome) item.resolve(outcome.value)
    else item.reject(outcome.error)
  }

  const sendAlone = (item: Item) => {
    io.single(item.method, item.params, item.signal, item.paramsJson).then(
      (value) => settle(item, { value }),
      (error: unknown) => settle(item, { error }),
    )
  }

  const sendBatch = async (items: Item[]) => {
    // The shared request dies only with its last caller.
    const controller = new AbortController()
    const watch = () => {
      if (items.every((i) => i.done)) controller.abort(items[items.length - 1]!.signal.reason)
    }
    for (const item of items) item.signal.addEventListener('abort', watch, { once: true })
    const body = `[${items.map((i) => encodeRequest(i.id, i.method, i.params, i.paramsJson)).join(',')}]`
    try {
      const { ok, parsed } = await io.post(body, controller.signal)
      if (!ok || !Array.isArray(parsed)) {
        // 1. Refused as a batch (some endpoints do not take batches, or not this size): one by one.
        for (const item of items) if (!item.done) sendAlone(item)
        return
      }
      // 2. Answers by id, in any order; an item the endpoint skipped fails alone.
      const byId = new Map<unknown, unknown>()
      for (const answer of parsed) if (typeof answer === 'object' && answer !== null) byId.set((answer as { id?: unknown }).id, answer)
      for (const item of items) {
        if (item.done) continue
        const answer = byId.get(item.id)
        if (answer === undefined) {
          settle(item, { error: new InvalidResponseError(`batch answer has no response for id ${item.id}`, io.errorOptions) })
          continue
        }
        try {
          settle(item, { value: unwrapResponse(answer, item.id, io.errorOptions) })
        } catch (error) {
          settle(item, { error })
        }
      }
    } catch (error) {
      // Network, 401/403, 429, garbage: every caller still waiting gets it, and the pool retries each.
      for (const item of items) settle(item, { error })
    } finally {
      for (const item of items) item.signal.removeEventListener('abort', watch)
    }
  }

  return {
    request(method, params, { signal, paramsJson }) {
      return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason)
        const item: Item = { id: io.nextId(), method, params, paramsJson, signal, resolve, reject, done: false, onAbort: () => settle(item, { error: signal.reason }) }
        signal.addEventListener('abort', item.onAbort, { once: true })
        queue.push(item)
        if (queue.length >= options.maxSize) flush()
        else if (timer === undefined) timer = io.clock.setTimeout(flush, options.wait)
      })
    },
  }
}
