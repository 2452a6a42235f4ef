import type { AddressInfo } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'

export type WsFaultMode =
  | { kind: 'pass' }
  | { kind: 'drop' } // every client socket terminated now; new ones refused (HTTP 503) until another mode is set
  | { kind: 'silent' } // sockets stay open, nothing is forwarded either way and pings get no pong
  | { kind: 'delay'; ms: number } // each client frame reaches the target `ms` later (order kept)
  | { kind: 'wrongChain'; chainId?: number } // eth_chainId answered by the proxy; default 999

export type WsFaultProxy = {
  /** ws://127.0.0.1:PORT; any path is accepted and ignored. */
  url: string
  port: number
  setMode(mode: WsFaultMode): void
  mode(): WsFaultMode
  /** Client connections accepted (upgrade completed). */
  connections(): number
  /** Upgrades refused in drop mode. */
  refused(): number
  /** Client connections open now. */
  openConnections(): number
  /** Client frames received (each frame once, counted before the fault applies). */
  messages(): number
  /** Per JSON-RPC method counts of client frames (batch entries each counted). */
  methodCounts(): Record<string, number>
  /** Protocol pings received from clients, answered or not. */
  pings(): number
  /** Zeroes every counter; open connections are kept. */
  resetCounts(): void
  /** Terminates every socket (both sides) and closes the server. Idempotent. */
  close(): Promise<void>
}

type Pair = { client: WebSocket; upstream: WebSocket; timers: Set<NodeJS.Timeout> }

const toHex = (n: number) => `0x${n.toString(16)}`

/** A WebSocket proxy in front of a JSON-RPC WebSocket endpoint (anvil's serves WS on its HTTP port). */
export async function createWsFaultProxy(target: string, opts: { mode?: WsFaultMode } = {}): Promise<WsFaultProxy> {
  const upstreamUrl = target.replace(/^http/, 'ws')
  let current: WsFaultMode = opts.mode ?? { kind: 'pass' }
  const counts = { connections: 0, refused: 0, messages: 0, pings: 0 }
  let methods: Record<string, number> = {}
  const pairs = new Set<Pair>()
  let closing: Promise<void> | undefined

  // autoPong off: ws would otherwise answer pings itself, and silent mode could not hold them back.
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    autoPong: false,
    verifyClient: (_info, done) => {
      if (current.kind !== 'drop') return done(true)
      counts.refused++
      done(false, 503, 'fault proxy: drop')
    },
  })
  server.on('error', () => {})

  const count = (text: string) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      methods['(invalid)'] = (methods['(invalid)'] ?? 0) + 1
      return undefined
    }
    for (const e of Array.isArray(parsed) ? parsed : [parsed]) {
      const m = typeof (e as { method?: unknown } | null)?.method === 'string' ? (e as { method: string }).method : '(invalid)'
      methods[m] = (methods[m] ?? 0) + 1
    }
    return parsed
  }

  server.on('connection', (client) => {
    counts.connections++
    const upstream = new WebSocket(upstreamUrl)
    const pair: Pair = { client, upstream, timers: new Set() }
    pairs.add(pair)
    const queue: string[] = []
    const toUpstream = (text: string) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text)
      else if (upstream.readyState === WebSocket.CONNECTING) queue.push(text)
    }
    const end = () => {
      for (const t of pair.timers) clearTimeout(t)
      pair.timers.clear()
      client.terminate()
      upstream.terminate()
      pairs.delete(pair)
    }

    client.on('message', (data, isBinary) => {
      counts.messages++
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString()
      const parsed = count(text)
      // The mode when the frame arrives decides its fate, like the HTTP proxy's per-request snapshot.
      const mode = current
      if (mode.kind === 'silent' || mode.kind === 'drop') return
      if (mode.kind === 'wrongChain' && !Array.isArray(parsed) && (parsed as { method?: unknown } | undefined)?.method === 'eth_chainId') {
        const id = (parsed as { id?: unknown }).id
        client.send(JSON.stringify({ jsonrpc: '2.0', id, result: toHex(mode.chainId ?? 999) }))
        return
      }
      if (mode.kind === 'delay') {
        const t = setTimeout(() => {
          pair.timers.delete(t)
          toUpstream(text)
        }, mode.ms)
        pair.timers.add(t)
        return
      }
      toUpstream(text)
    })
    client.on('ping', (data) => {
      counts.pings++
      if (current.kind !== 'silent') client.pong(data)
    })
    client.on('close', end)
    client.on('error', end)

    upstream.on('open', () => {
      for (const text of queue.splice(0)) upstream.send(text)
    })
    upstream.on('message', (data, isBinary) => {
      if (current.kind === 'silent' || client.readyState !== WebSocket.OPEN) return
      client.send(isBinary ? data : data.toString(), { binary: isBinary })
    })
    // The target went away (or refused us): the client sees its socket drop, as it would in reality.
    upstream.on('close', end)
    upstream.on('error', end)
  })

  await new Promise<void>((resolve, reject) => {
    if (server.address()) return resolve()
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port

  const terminateAll = async () => {
    const closed = [...pairs].map(
      (p) => new Promise<void>((resolve) => (p.client.readyState === WebSocket.CLOSED ? resolve() : p.client.once('close', () => resolve()))),
    )
    for (const p of [...pairs]) {
      for (const t of p.timers) clearTimeout(t)
      p.client.terminate()
      p.upstream.terminate()
    }
    pairs.clear()
    await Promise.all(closed)
  }

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    setMode(mode) {
      current = mode
      if (mode.kind === 'drop') void terminateAll()
    },
    mode: () => current,
    connections: () => counts.connections,
    refused: () => counts.refused,
    openConnections: () => pairs.size,
    messages: () => counts.messages,
    methodCounts: () => ({ ...methods }),
    pings: () => counts.pings,
    resetCounts() {
      counts.connections = 0
      counts.refused = 0
      counts.messages = 0
      counts.pings = 0
      methods = {}
    },
    close() {
      closing ??= (async () => {
        await terminateAll()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })()
      return closing
    },
  }
}
