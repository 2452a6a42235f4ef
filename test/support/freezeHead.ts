import type { FaultProxy } from './faultProxy.js'

/**
 * Puts `proxy` in stale mode, its head frozen where the chain is now. Stale mode reads that head when
 * set; one request through the proxy waits for the read, so the freeze is in place when this resolves.
 */
export async function freezeHead(proxy: FaultProxy): Promise<void> {
  proxy.setMode({ kind: 'stale' })
  await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) })
}
