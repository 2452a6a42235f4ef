import { describe, expect, it } from 'vitest'
import * as promClient from 'prom-client'
import { createContract, createEip1193Provider, createEthersProvider, createOutbox, createPrometheusMetrics, isResilientRpcError, resolveBlock, sendRawTransaction, waitForTransaction, watchEvents } from '../../src/index.js'
import { counterAbi } from '../fixtures/contracts/counter.js'
import { useFakePool } from '../support/fakePool.js'

// Every options object a user passes is checked by name: a misspelled key is INVALID_OPTION naming it
// and the name it most likely meant, at the call, before anything is sent.

const { makePool } = useFakePool({ endpoints: ['http://a'], heartbeat: false })
const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const HASH = `0x${'ab'.repeat(32)}`

/** What the call threw (synchronously or as a rejection), as `option: message`. */
async function refusal(call: () => unknown): Promise<string> {
  try {
    await call()
  } catch (error) {
    return isResilientRpcError(error, 'INVALID_OPTION') ? `${error.option}: ${error.shortMessage}` : `not INVALID_OPTION: ${String(error)}`
  }
  return 'accepted'
}

describe('options checked by name, everywhere', () => {
  it.each([
    ['request', () => makePool().request('eth_blockNumber', [], { timout: 5 } as never), 'timout', 'timeout'],
    ['request quorum', () => makePool().request('eth_blockNumber', [], { quorom: 2 } as never), 'quorom', 'quorum'],
    ['requestEach', () => makePool().requestEach('eth_blockNumber', [], { retires: 1 } as never), 'retires', 'retries'],
    ['ready', () => makePool().ready({ minHealty: 2 } as never), 'minHealty', 'minHealthy'],
    ['subscribe newHeads', () => makePool().subscribe('newHeads', () => {}, { onReorgs: () => {} } as never), 'onReorgs', 'onReorg'],
    ['subscribe logs', () => makePool().subscribe('logs', {}, () => {}, { onRemove: () => {} } as never), 'onRemove', 'onRemoved'],
    ['subscribe logs filter', () => makePool().subscribe('logs', { adress: '0x0000000000000000000000000000000000000001' } as never, () => {}), 'filter.adress', 'address'],
    ['watchEvents', () => watchEvents(makePool(), { adress: ADDRESS } as never, () => {}), 'adress', 'address'],
    ['watchEvents retryBackoff', () => watchEvents(makePool(), { address: ADDRESS, retryBackoff: { intial: 5 } } as never, () => {}), 'retryBackoff.intial', 'initial'],
    ['waitForTransaction', () => waitForTransaction(makePool(), HASH, { confirmation: 2 } as never), 'confirmation', 'confirmations'],
    ['sendRawTransaction', () => sendRawTransaction(makePool(), '0x01', { brodcast: 'all' } as never), 'brodcast', 'broadcast'],
    ['createOutbox', () => createOutbox(makePool(), { storge: undefined, rebroadcastIntervall: 1 } as never), 'rebroadcastIntervall', 'rebroadcastInterval'],
    ['createEip1193Provider', () => createEip1193Provider(makePool(), { timout: 5 } as never), 'timout', 'timeout'],
    ['createEip1193Provider filters', () => createEip1193Provider(makePool(), { filters: { idleTimout: 5 } } as never), 'filters.idleTimout', 'idleTimeout'],
    ['createEthersProvider', () => createEthersProvider(makePool(), { pollInterval: 5 } as never), 'pollInterval', 'pollingInterval'],
    ['contract.read', () => createContract(makePool(), ADDRESS, counterAbi).read('value', [], { confirmation: 2 } as never), 'confirmation', 'confirmations'],
    ['resolveBlock', () => resolveBlock(makePool(), { blockTg: 'latest' } as never), 'blockTg', 'blockTag'],
    ['createPrometheusMetrics', () => createPrometheusMetrics(makePool(), { client: promClient, registry: new promClient.Registry(), prefx: 'x_' } as never), 'prefx', 'prefix'],
  ])('%s', async (_name, call, option, meant) => {
    expect(await refusal(call)).toBe(`${option}: Invalid option \`${option}\`: unknown option; did you mean \`${meant}\`?`)
  })

  it('a signal that is not an AbortSignal is refused at the call, not in a timer later', async () => {
    const halfSignal = { aborted: false, addEventListener() {} }
    expect(await refusal(() => makePool().subscribe('newHeads', () => {}, { signal: halfSignal as never }))).toMatch(/^signal: Invalid option `signal`: expected an AbortSignal/)
    expect(await refusal(() => makePool().ready({ signal: halfSignal as never }))).toMatch(/^signal: Invalid option `signal`: expected an AbortSignal/)
    expect(await refusal(() => makePool().request('eth_blockNumber', [], { signal: halfSignal as never }))).toMatch(/^signal: Invalid option `signal`: expected an AbortSignal/)
    // A signal of another realm (or a polyfill) passes: it is judged by what it does.
    const foreign = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {}, throwIfAborted() {} }
    expect(await refusal(() => makePool().subscribe('newHeads', () => {}, { signal: foreign as never })())).toBe('accepted')
  })
})
