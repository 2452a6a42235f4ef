/**
 * A scripted `fetch` for unit tests: each endpoint host answers according to a behaviour that can be
 * changed at any time. Honours AbortSignal like the real one, and records every call.
 */
export type Behaviour =
  | { kind: 'ok'; result?: unknown; delay?: number }
  | { kind: 'hang' }
  | { kind: 'network' }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'rpcError'; code: number; message: string; data?: unknown }
  | { kind: 'body'; body: string }

/** One request as the fake saw it; `id` is the JSON-RPC id, for answers that must echo it (a batch's calls have theirs in `batch`). */
export type FetchCall = {
  host: string
  method: string
  params: unknown[]
  id: unknown
  signal: AbortSignal
  headers: Record<string, string>
  batch?: { id: number; method: string; params: unknown[] }[]
}

export type FakeFetch = {
  fetch: typeof fetch
  set(host: string, behaviour: Behaviour | ((call: FetchCall) => Behaviour)): void
  calls: FetchCall[]
  callsTo(host: string): FetchCall[]
  /** Back to the behaviours it was created with, and no calls recorded: a fresh fake between tests. */
  reset(): void
}

export function createFakeFetch(initial: Record<string, Behaviour> = {}): FakeFetch {
  const behaviours = new Map<string, Behaviour | ((call: FetchCall) => Behaviour)>(Object.entries(initial))
  const calls: FetchCall[] = []
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input))
    const parsed = JSON.parse(String(init?.body)) as { id: number; method: string; params: unknown[] } | { id: number; method: string; params: unknown[] }[]
    const batch = Array.isArray(parsed) ? parsed : undefined
    const body = batch ? batch[0]! : (parsed as { id: number; method: string; params: unknown[] })
    const signal = init!.signal!
    const call: FetchCall = { host: url.host, method: body.method, params: body.params, id: body.id, signal, headers: init!.headers as Record<string, string>, ...(batch ? { batch } : {}) }
    calls.push(call)
    signal.throwIfAborted()
    const b = behaviours.get(url.host) ?? { kind: 'network' }
    const behaviour = typeof b === 'function' ? b(call) : b
    const respond = (text: string, status = 200, headers: Record<string, string> = {}) => new Response(text, { status, headers })
    switch (behaviour.kind) {
      case 'ok': {
        if (behaviour.delay) await abortableDelay(behaviour.delay, signal)
        return respond(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: 'result' in behaviour ? behaviour.result : '0x1' }))
      }
      case 'hang':
        return new Promise<Response>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
      case 'network':
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })
      case 'status':
        return respond(behaviour.body ?? '', behaviour.status, behaviour.headers)
      case 'rpcError':
        return respond(JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: behaviour.code, message: behaviour.message, data: behaviour.data } }))
      case 'body':
        return respond(behaviour.body)
    }
  }) as typeof globalThis.fetch
  return {
    fetch,
    set: (host, behaviour) => void behaviours.set(host, behaviour),
    calls,
    callsTo: (host) => calls.filter((c) => c.host === host),
    reset() {
      behaviours.clear()
      for (const [host, b] of Object.entries(initial)) behaviours.set(host, b)
      calls.length = 0
    },
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true })
  })
}
