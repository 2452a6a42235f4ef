import { describe, expect, it } from 'vitest'
import { isRangeRefusal } from '../../src/errors/providerMessages.js'
import { HttpError, NetworkError, RateLimitedError, RpcResponseError } from '../../src/errors/endpoint.js'
import { RetriesExhaustedError, TimeoutError } from '../../src/errors/request.js'

const rpc = (code: number, message: string) => new RpcResponseError({ code, message })

describe('isRangeRefusal', () => {
  it.each([
    [-32005, 'query returned more than 10000 results'],
    [-32602, 'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range'],
    [-32614, 'eth_getLogs is limited to a 10,000 range'],
    [-32600, 'block range is too wide'],
    [-32000, 'exceed maximum block range: 5000'],
    [-32047, 'range of blocks too large'],
    [-32000, 'too many logs'],
    [-32005, 'limit exceeded'],
    [-32000, 'maximum [from, to] blocks distance: 10000'],
    [35, 'ranges over 10000 blocks are not supported on freetier'],
    [-32602, 'range 1000000 exceeds limit of 10000'],
    [-32008, 'Response is too big'],
    [-32005, 'query timeout exceeded'],
  ])('%i %s → shrink', (code, message) => {
    expect(isRangeRefusal(rpc(code, message))).toBe(true)
  })

  it.each([
    [-32005, 'rate limit exceeded'],
    [-32005, 'Daily request count exceeded, request rate limited'],
    [-32000, 'header not found'],
    // A node behind the range's end, not a range too big for it: shrinking would not help.
    [-32602, 'block range extends beyond current head block'],
    [-32602, 'block range extends beyond current head block: requested 200, head 150'],
    [3, 'execution reverted'],
    [-32005, 'Monthly capacity limit exceeded. Visit https://dashboard.alchemyapi.io/settings/billing to upgrade your scaling policy for continued service.'],
  ])('%i %s → not a range problem', (code, message) => {
    expect(isRangeRefusal(rpc(code, message))).toBe(false)
  })

  it('reads the reason a provider puts in data under a message that says nothing (Tenderly)', () => {
    const data = { error_id: '4ed94073-0317-4648-a167-107fba5f44b3', payload: 'range 9009594 is bigger than range limit 2000' }
    expect(isRangeRefusal(new RpcResponseError({ code: -32602, message: 'invalid params', data }))).toBe(true)
    expect(isRangeRefusal(new RpcResponseError({ code: -32602, message: 'invalid params' }))).toBe(false)
  })

  it('HTTP 413 is one; other transport failures are not', () => {
    expect(isRangeRefusal(new HttpError(413))).toBe(true)
    expect(isRangeRefusal(new HttpError(500))).toBe(false)
    expect(isRangeRefusal(new NetworkError())).toBe(false)
    expect(isRangeRefusal(new TimeoutError('request', 1000))).toBe(false)
    expect(isRangeRefusal(new RateLimitedError(1000))).toBe(false)
    expect(isRangeRefusal(new Error('query returned more than 10000 results'))).toBe(false)
  })

  it('finds a refusal inside RETRIES_EXHAUSTED (as the cause or among the attempts)', () => {
    const refusal = rpc(-32005, 'query returned more than 10000 results')
    const other = new NetworkError({ endpoint: 'a' })
    expect(isRangeRefusal(new RetriesExhaustedError({ cause: other, attempts: [{ endpoint: 'b', error: refusal, duration: 1 }, { endpoint: 'a', error: other, duration: 1 }] }))).toBe(true)
    expect(isRangeRefusal(new RetriesExhaustedError({ cause: refusal, attempts: [] }))).toBe(true)
    expect(isRangeRefusal(new RetriesExhaustedError({ cause: other, attempts: [{ endpoint: 'a', error: other, duration: 1 }] }))).toBe(false)
  })
})
