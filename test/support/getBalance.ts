import type { Pool } from '../../src/index.js'

// The read the integration tests count: heartbeats ping with eth_chainId and eth_blockNumber, so
// every eth_getBalance a proxy sees comes from a request.

/**
 * eth_getBalance of the address i + 1: one address per i, so that concurrent reads stay separate
 * requests (identical reads in flight are shared).
 */
export const getBalance = (p: Pool, i = 0, block = 'latest') => p.request<string>('eth_getBalance', [`0x${(i + 1).toString(16).padStart(40, '0')}`, block])

/** eth_getBalance requests a proxy received since its counts were last reset (before each test). */
export const balances = (proxy: { methodCounts(): Record<string, number> }) => proxy.methodCounts()['eth_getBalance'] ?? 0
