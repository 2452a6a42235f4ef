import { describe, expect, it } from 'vitest'
import type { OutboxOptions, OutboxSendOptions } from '../../src/index.js'
import { DEFAULT_OUTBOX, resolveOutboxOptions, resolveSendOptions } from '../../src/tx/outboxOptions.js'
import { systemClock, type Clock } from '../../src/util/clock.js'

const messageOf = (f: () => unknown) => {
  try {
    f()
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('did not throw')
}

describe('resolveOutboxOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveOutboxOptions({})
    expect(resolved).toMatchObject({ ...DEFAULT_OUTBOX, unref: false, clock: systemClock, onState: undefined })
    expect(DEFAULT_OUTBOX).toEqual({ rebroadcastInterval: 10_000, pollInterval: 2_000, dropAfter: 120_000, timeout: 600_000 })
    expect(typeof resolved.storage.load).toBe('function')
  })

  it('a dropAfter of 0 and a timeout of Infinity are allowed', () => {
    expect(resolveOutboxOptions({ dropAfter: 0, timeout: Infinity })).toMatchObject({ dropAfter: 0, timeout: Infinity })
  })

  it('rejects each bad option, saying what it expected and what it got', () => {
    const bad: unknown[] = [
      null,
      { storage: 'db' },
      { storage: { load: () => [], save: () => {} } },
      { rebroadcastInterval: 0 },
      { pollInterval: -1 },
      { dropAfter: Number.NaN },
      { timeout: 0 },
      { unref: 'yes' },
      { onState: 'log' },
    ]
    expect(bad.map((options) => messageOf(() => resolveOutboxOptions(options as OutboxOptions)))).toMatchInlineSnapshot(`
      [
        "Invalid option \`options\`: expected an object, got null",
        "Invalid option \`storage\`: expected an object, got db",
        "Invalid option \`storage.remove\`: expected a function, got undefined",
        "Invalid option \`rebroadcastInterval\`: expected a duration in ms > 0 and <= 2147483647, got 0",
        "Invalid option \`pollInterval\`: expected a duration in ms > 0 and <= 2147483647, got -1",
        "Invalid option \`dropAfter\`: expected a duration in ms >= 0 and <= 2147483647, got NaN",
        "Invalid option \`timeout\`: expected a duration in ms > 0 and <= 2147483647 (or Infinity), got 0",
        "Invalid option \`unref\`: expected a boolean, got yes",
        "Invalid option \`onState\`: expected a function, got log",
      ]
    `)
  })
})

describe('resolveSendOptions', () => {
  const clock: Clock = { ...systemClock, now: () => 1_000_000 }
  const outbox = resolveOutboxOptions({ clock, timeout: 60_000 })

  it('confirmations 1 and a deadline of the outbox timeout from now by default', () => {
    expect(resolveSendOptions({}, outbox)).toEqual({ confirmations: 1, deadline: 1_060_000, signal: undefined, onState: undefined })
  })

  it('the earlier of `deadline` and `timeout` wins', () => {
    expect(resolveSendOptions({ deadline: 1_010_000 }, outbox).deadline).toBe(1_010_000)
    expect(resolveSendOptions({ deadline: 2_000_000, timeout: 5_000 }, outbox).deadline).toBe(1_005_000)
    expect(resolveSendOptions({}, resolveOutboxOptions({ clock, timeout: Infinity })).deadline).toBe(Infinity)
  })

  it('rejects each bad option, saying what it expected and what it got', () => {
    const bad: unknown[] = [
      { confirmations: 0 },
      { confirmations: 1.5 },
      { timeout: -5 },
      { deadline: Number.NaN },
      { deadline: '2030-01-01' },
      { signal: {} },
      { onState: 1 },
    ]
    expect(bad.map((options) => messageOf(() => resolveSendOptions(options as OutboxSendOptions, outbox)))).toMatchInlineSnapshot(`
      [
        "Invalid option \`confirmations\`: expected an integer >= 1, got 0",
        "Invalid option \`confirmations\`: expected an integer >= 1, got 1.5",
        "Invalid option \`timeout\`: expected a duration in ms > 0 and <= 2147483647 (or Infinity), got -5",
        "Invalid option \`deadline\`: expected a time in ms, got NaN",
        "Invalid option \`deadline\`: expected a time in ms, got 2030-01-01",
        "Invalid option \`signal\`: expected an AbortSignal (with aborted, addEventListener and removeEventListener), got [object Object]",
        "Invalid option \`onState\`: expected a function, got 1",
      ]
    `)
  })
})
