import { existsSync } from 'node:fs'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { startAnvil } from './anvil.js'
import type { Anvil } from './anvil.js'
import { runInChild } from './runInChild.js'

const head = async (a: Anvil) => Number(await a.rpc<string>('eth_blockNumber'))

describe('startAnvil', () => {
  let anvil: Anvil

  beforeAll(async () => {
    anvil = await startAnvil()
  })
  afterAll(async () => {
    await anvil?.stop()
  })

  it('listens on a real loopback port with the default chain id', async () => {
    expect(anvil.url).toBe(`http://127.0.0.1:${anvil.port}`)
    expect(anvil.port).toBeGreaterThan(0)
    expect(anvil.chainId).toBe(31337)
    expect(await anvil.rpc<string>('eth_chainId')).toBe('0x7a69')
  })

  it('rpc throws with the JSON-RPC error message', async () => {
    await expect(anvil.rpc('no_such_method')).rejects.toThrow(/method not found/i)
  })

  it('mine advances the head by the requested number of blocks', async () => {
    const before = await head(anvil)
    await anvil.mine(3)
    expect(await head(anvil)).toBe(before + 3)
    await anvil.mine()
    expect(await head(anvil)).toBe(before + 4)
  })

  it('snapshot / revert rolls the chain back', async () => {
    const before = await head(anvil)
    const id = await anvil.snapshot()
    expect(typeof id).toBe('string')
    await anvil.mine(5)
    expect(await head(anvil)).toBe(before + 5)
    await anvil.revert(id)
    expect(await head(anvil)).toBe(before)
    // Snapshots are single-use in anvil; reverting again must be reported, not ignored.
    await expect(anvil.revert(id)).rejects.toThrow(/evm_revert/)
  })
})

describe('startAnvil options and lifecycle', () => {
  it('honours chainId and blockTime, and stop() is idempotent and frees the port', async () => {
    const a = await startAnvil({ chainId: 1337, blockTime: 1 })
    try {
      expect(a.chainId).toBe(1337)
      expect(await a.rpc<string>('eth_chainId')).toBe('0x539')
      const start = await head(a)
      const deadline = Date.now() + 5_000
      while ((await head(a)) === start && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(await head(a)).toBeGreaterThan(start)
    } finally {
      await a.stop()
    }
    await a.stop()
    await expect(fetch(a.url, { method: 'POST', signal: AbortSignal.timeout(1_000) })).rejects.toThrow()
  })

  it('passes extra args through', async () => {
    const a = await startAnvil({ args: ['--gas-limit', '12345678'] })
    try {
      const block = await a.rpc<{ gasLimit: string }>('eth_getBlockByNumber', ['latest', false])
      expect(Number(block.gasLimit)).toBe(12345678)
    } finally {
      await a.stop()
    }
  })

  it('rejects with the stderr tail when anvil refuses to start', async () => {
    await expect(startAnvil({ args: ['--definitely-not-a-flag'] })).rejects.toThrow(
      /exited before listening[\s\S]*definitely-not-a-flag/,
    )
  })
})

describe('runInChild', () => {
  it('bundles, runs and reports output of a child that exits on its own', async () => {
    const r = await runInChild('test/support/fixtures/exits.ts', {
      args: ['a', 'b c'],
      env: { RUN_IN_CHILD_PROBE: 'probe-value', RUN_IN_CHILD_EXIT_CODE: '3' },
    })
    expect(r.exitedOnItsOwn).toBe(true)
    expect(r.code).toBe(3)
    expect(r.signal).toBeNull()
    const [first, second] = r.stdout.trim().split('\n')
    expect(first).toBe('ok')
    const info = JSON.parse(second ?? '{}') as { args: string[]; probe: string; bundle: string }
    expect(info.args).toEqual(['a', 'b c'])
    expect(info.probe).toBe('probe-value')
    expect(info.bundle).toMatch(/node_modules[/\\]\.cache[/\\]resilient-rpc-test[/\\]exits-.*\.mjs$/)
    expect(r.stderr).toContain('to-stderr')
    // The temp bundle is cleaned up once the child is done.
    expect(existsSync(info.bundle)).toBe(false)
  })

  it('kills a child that keeps the event loop alive and says so', async () => {
    const started = Date.now()
    const r = await runInChild('test/support/fixtures/lingers.ts', { timeout: 1_500 })
    expect(r.exitedOnItsOwn).toBe(false)
    expect(r.signal).toBe('SIGKILL')
    expect(r.code).toBeNull()
    expect(r.stdout).toContain('started')
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400)
    expect(Date.now() - started).toBeLessThan(6_000)
  })

  it('rejects when the entry does not build', async () => {
    await expect(runInChild('test/support/fixtures/does-not-exist.ts')).rejects.toThrow(/does-not-exist/)
  })
})
