import { describe, expect, it } from 'vitest'
import type { OutboxEntry } from '../../src/index.js'
import { createMemoryOutboxStorage, StorageQueue } from '../../src/tx/outboxStorage.js'

const entry = (hash: string, status: OutboxEntry['status'] = 'queued'): OutboxEntry => ({ hash, raw: '0x01', from: '0xfrom', nonce: 1, confirmations: 1, deadline: 1_000, status })

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('createMemoryOutboxStorage', () => {
  it('copies entries in and out, as a real store would', async () => {
    const storage = createMemoryOutboxStorage()
    const saved = entry('0xa')
    await storage.save(saved)
    saved.status = 'accepted'
    const [loaded] = await storage.load()
    expect(loaded).toEqual(entry('0xa'))
    loaded!.status = 'mined'
    expect(await storage.load()).toEqual([entry('0xa')])
    await storage.remove('0xa')
    expect(await storage.load()).toEqual([])
  })
})

describe('StorageQueue', () => {
  it('writes one at a time, in the order asked: a late save never resurrects a removed entry', async () => {
    const log: string[] = []
    const slowSave = deferred()
    const queue = new StorageQueue(
      {
        load: () => [],
        save: async (e) => {
          log.push(`save ${e.status} start`)
          if (e.status === 'accepted') await slowSave.promise
          log.push(`save ${e.status} end`)
        },
        remove: (hash) => void log.push(`remove ${hash}`),
      },
      () => {},
    )
    const saved = queue.save(entry('0xa', 'accepted'))
    const removed = queue.remove('0xa')
    await Promise.resolve()
    expect(log).toEqual(['save accepted start'])
    slowSave.resolve()
    await Promise.all([saved, removed])
    expect(log).toEqual(['save accepted start', 'save accepted end', 'remove 0xa'])
  })

  it('saves a copy: the entry may change while the write waits its turn', async () => {
    const written: OutboxEntry[] = []
    const queue = new StorageQueue({ load: () => [], save: (e) => void written.push(e), remove: () => {} }, () => {})
    const e = entry('0xa')
    const saved = queue.save(e)
    e.status = 'mined'
    await saved
    expect(written).toEqual([entry('0xa', 'queued')])
  })

  it('a failing write goes to onError, its promise still resolves, and the next write runs', async () => {
    const errors: unknown[] = []
    const removed: string[] = []
    const queue = new StorageQueue(
      {
        load: () => [],
        save: () => Promise.reject(new Error('disk full')),
        remove: (hash) => {
          if (hash === '0xbad') throw new Error('locked')
          removed.push(hash)
        },
      },
      (error) => errors.push(error),
    )
    await expect(queue.save(entry('0xa'))).resolves.toBeUndefined()
    await expect(queue.remove('0xbad')).resolves.toBeUndefined()
    await queue.remove('0xa')
    expect(errors).toEqual([new Error('disk full'), new Error('locked')])
    expect(removed).toEqual(['0xa'])
  })
})
