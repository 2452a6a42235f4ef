import { afterEach, beforeEach, vi } from 'vitest'
import { createPool, type EndpointConfig, type Pool, type PoolOptions } from '../../src/index.js'
import { createFakeFetch, type Behaviour, type FakeFetch } from './fakeFetch.js'
import { useCheckedFakeTimers } from './fakeTimers.js'

export type FakePool = {
  /** The scripted fetch every pool of the file uses; back to its starting behaviours before each test. */
  fake: FakeFetch
  /**
   * A pool on `fake.fetch`: the file's defaults, then `endpoints` when given, then `options`.
   * Destroyed after the test.
   */
  makePool(options?: Partial<PoolOptions>, endpoints?: readonly EndpointConfig[]): Pool
  /** Has a pool the test built itself destroyed after the test too; returns it. */
  track(pool: Pool): Pool
  /** The pool made or tracked last in this test; throws if there is none. */
  lastPool(): Pool
}

export type FakePoolOptions = {
  /** Behaviours by host that every test starts from. @default none (an unscripted host is a network error) */
  initial?: Record<string, Behaviour>
  /**
   * Fake time advanced after the pools are destroyed, before asserting that no timer is left: for a
   * library whose own caches expire on a timer (ethers). @default 0
   */
  settle?: number
}

/**
 * Unit tests of anything built on a pool, with a scripted fetch and fake timers: fake timers and a
 * fresh fake before each test; after it, every pool destroyed and not one timer left running.
 * `defaults` may be a function, read at each `makePool`, for options that change per test.
 */
export function useFakePool(defaults: Partial<PoolOptions> | (() => Partial<PoolOptions>), options: FakePoolOptions = {}): FakePool {
  const fake = createFakeFetch(options.initial)
  const pools = new Set<Pool>()
  let last: Pool | undefined
  const track = (pool: Pool): Pool => {
    pools.add(pool)
    last = pool
    return pool
  }
  useCheckedFakeTimers()
  beforeEach(() => {
    fake.reset()
  })
  // Registered after the timer check, so it runs before it.
  afterEach(async () => {
    const destroying = [...pools].map((p) => p.destroy())
    pools.clear()
    last = undefined
    await Promise.all(destroying)
    if (options.settle) await vi.advanceTimersByTimeAsync(options.settle)
  })
  return {
    fake,
    track,
    lastPool() {
      if (!last) throw new Error('lastPool(): this test made no pool')
      return last
    },
    makePool(overrides = {}, endpoints) {
      const base = typeof defaults === 'function' ? defaults() : defaults
      return track(createPool({ endpoints: [], ...base, fetch: fake.fetch, ...(endpoints ? { endpoints } : {}), ...overrides }))
    },
  }
}
