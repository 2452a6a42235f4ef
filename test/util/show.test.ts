import { describe, expect, it } from 'vitest'
import { createPool } from '../../src/index.js'
import { printable, show, showJson } from '../../src/util/show.js'

describe('show / showJson', () => {
  it('prints ordinary values as String / JSON.stringify do', () => {
    expect([show(5), show('fast'), show(undefined), show(NaN), show(10n), show(Symbol('s'))]).toEqual(['5', 'fast', 'undefined', 'NaN', '10', 'Symbol(s)'])
    expect([showJson('fast'), showJson({ a: 1 }), showJson(undefined)]).toEqual(['"fast"', '{"a":1}', 'undefined'])
  })

  it('never throws, whatever the value', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const hostile = { toString: () => { throw new Error('no') }, toJSON: () => { throw new Error('no') } }
    expect(show(Object.create(null))).toBe('[object Object]')
    expect(show(hostile)).toBe('[object Object]')
    expect(showJson(10n)).toBe('10')
    expect(showJson(cyclic)).toBe('[object Object]')
    expect(showJson(hostile)).toBe('[object Object]')
  })
})

describe('options that used to throw a TypeError instead of INVALID_OPTION (found by fuzzing)', () => {
  it.each([
    { name: 'a null-prototype object as a count', options: { cache: { maxEntries: Object.create(null) } } },
    { name: 'a bigint in the strategy', options: { strategy: [0n] } },
    { name: 'a hole in the endpoints', options: { endpoints: [, 'http://b.example'] } },
  ])('createPool: $name', ({ options }) => {
    expect(() => createPool({ endpoints: ['http://a.example'], ...(options as object) } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
  })

  it('pool.request with a symbol as attemptTimeout, pool.subscribe with a non-signal', async () => {
    const pool = createPool({ endpoints: ['http://a.example'], heartbeat: false })
    try {
      await expect(pool.request('eth_blockNumber', [], { attemptTimeout: Symbol('s') as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
      expect(() => pool.subscribe('newHeads', () => {}, { signal: (() => 1) as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
      expect(() => pool.subscribe(Object.create(null), () => {})).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
      expect(() => pool.subscribe('newHeads', () => {}, { signal: null as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
      await expect(pool.request('eth_blockNumber', [], null as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    } finally {
      await pool.destroy()
    }
  })
})

describe('printable', () => {
  it('escapes control characters (C0, DEL, C1) and direction overrides, and nothing else', () => {
    expect(printable('custom error 0xda472023: \u0000\u0000\u0000*')).toBe('custom error 0xda472023: \\x00\\x00\\x00*')
    expect(printable('a\nb\tc\rd\u001be[0m\u007f\u0085')).toBe('a\\nb\\tc\\rd\\x1be[0m\\x7f\\x85')
    expect(printable('evil\u202egnp.exe \u2028')).toBe('evil\\u202egnp.exe \\u2028')
    expect(printable('Ownable: caller is not the owner — ünïcödé ✓ \\x00')).toBe('Ownable: caller is not the owner — ünïcödé ✓ \\x00')
  })
})
