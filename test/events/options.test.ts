import { describe, expect, it } from 'vitest'
import { resolveWatchOptions, type WatchEventsOptions } from '../../src/events/options.js'

const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const handler = () => {}

const failure = (options: unknown, h: unknown) => {
  try {
    resolveWatchOptions(options as WatchEventsOptions, h as never)
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message }
  }
  throw new Error('no error')
}

describe('resolveWatchOptions', () => {
  it('applies the defaults', () => {
    expect(resolveWatchOptions({ address: ADDRESS.toLowerCase() }, handler)).toEqual({
      address: ADDRESS,
      fromBlock: 'latest',
      confirmations: 0,
      reorgWindow: 64,
      range: 2_000,
      maxBufferedLogs: 10_000,
      parallel: 4,
      pollInterval: 1_000,
      retryBackoff: { initial: 250, max: 30_000, factor: 2, jitter: 0.5 },
      signal: undefined,
      onCheckpoint: undefined,
      onError: undefined,
    })
    expect(resolveWatchOptions({ topics: [], fromBlock: 7, retryBackoff: { initial: 0, jitter: 0 } }, handler)).toMatchObject({
      address: undefined,
      fromBlock: 7n,
      retryBackoff: { initial: 0, max: 30_000, factor: 2, jitter: 0 },
    })
  })

  it.each([
    [undefined, 'Invalid option `options`: expected an object, got undefined'],
    [null, 'Invalid option `options`: expected an object, got null'],
    [{ address: 'nope' }, 'Invalid option `address`: expected an address or a list of addresses, got nope'],
    [{ address: [ADDRESS, '0x12'] }, `Invalid option \`address\`: expected an address or a list of addresses, got ${ADDRESS},0x12`],
    [{}, 'Invalid option `address`: give an address, an abi or topics: watching every log of the chain is not what you want'],
    [{ address: ADDRESS, confirmations: -1 }, 'Invalid option `confirmations`: expected an integer >= 0, got -1'],
    [{ address: ADDRESS, confirmations: 64 }, 'Invalid option `reorgWindow`: expected an integer > confirmations (64), got 64'],
    [{ address: ADDRESS, reorgWindow: 0 }, 'Invalid option `reorgWindow`: expected an integer >= 1, got 0'],
    [{ address: ADDRESS, fromBlock: -1 }, 'Invalid option `fromBlock`: expected an integer >= 0, got -1'],
    [{ address: ADDRESS, fromBlock: 'earliest' }, 'Invalid option `fromBlock`: expected an integer >= 0, got earliest'],
    [{ address: ADDRESS, range: 1.5 }, 'Invalid option `range`: expected an integer >= 1, got 1.5'],
    [{ address: ADDRESS, maxBufferedLogs: 0 }, 'Invalid option `maxBufferedLogs`: expected an integer >= 1, got 0'],
    [{ address: ADDRESS, parallel: '4' }, 'Invalid option `parallel`: expected an integer >= 1, got 4'],
    [{ address: ADDRESS, pollInterval: 5 }, 'Invalid option `pollInterval`: expected a finite number >= 10, got 5'],
    [{ address: ADDRESS, retryBackoff: 100 }, 'Invalid option `retryBackoff`: expected an object, got 100'],
    [{ address: ADDRESS, retryBackoff: { initial: -1 } }, 'Invalid option `retryBackoff.initial`: expected a duration in ms >= 0 and <= 2147483647, got -1'],
    [{ address: ADDRESS, retryBackoff: { max: Infinity } }, 'Invalid option `retryBackoff.max`: expected a duration in ms >= 0 and <= 2147483647, got Infinity'],
    [{ address: ADDRESS, retryBackoff: { factor: 0 } }, 'Invalid option `retryBackoff.factor`: expected a finite number > 0, got 0'],
    [{ address: ADDRESS, retryBackoff: { jitter: 2 } }, 'Invalid option `retryBackoff.jitter`: expected a number in [0, 1], got 2'],
    [{ address: ADDRESS, signal: {} }, 'Invalid option `signal`: expected an AbortSignal (with aborted, addEventListener and removeEventListener), got [object Object]'],
    [{ address: ADDRESS, onCheckpoint: 'save' }, 'Invalid option `onCheckpoint`: expected a function, got save'],
    [{ address: ADDRESS, onError: 1 }, 'Invalid option `onError`: expected a function, got 1'],
  ])('%j: %s', (options, message) => {
    expect(failure(options, handler)).toEqual({ code: 'INVALID_OPTION', message })
  })

  it('needs a handler', () => {
    expect(failure({ address: ADDRESS }, undefined)).toEqual({ code: 'INVALID_OPTION', message: 'Invalid option `handler`: expected a function, got undefined' })
    expect(failure({ address: ADDRESS }, {})).toEqual({ code: 'INVALID_OPTION', message: 'Invalid option `handler`: expected a function, got [object Object]' })
  })
})
