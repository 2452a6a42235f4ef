import { describe, expect, it } from 'vitest'
import { createAbortController, toRealSignal } from '../../src/util/abort.js'

describe('createAbortController', () => {
  it('aborts once with the reason, running each listener once, in order', () => {
    const controller = createAbortController()
    const { signal } = controller
    const calls: string[] = []
    signal.addEventListener('abort', () => calls.push(`a:${String(signal.reason)}`))
    signal.addEventListener('abort', () => calls.push('b'), { once: true })
    expect(signal.aborted).toBe(false)
    controller.abort('first')
    controller.abort('second')
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBe('first')
    expect(calls).toEqual(['a:first', 'b'])
    expect(() => signal.throwIfAborted()).toThrow('first')
  })

  it('does not run a removed listener, nor one added after the abort', () => {
    const controller = createAbortController()
    const calls: string[] = []
    const removed = () => calls.push('removed')
    controller.signal.addEventListener('abort', removed)
    controller.signal.removeEventListener('abort', removed)
    controller.abort()
    controller.signal.addEventListener('abort', () => calls.push('late'))
    expect(calls).toEqual([])
  })

  it('keeps the others in order whichever listener is removed, and a listener added twice runs twice', () => {
    const controller = createAbortController()
    const calls: string[] = []
    const listener = (name: string) => () => calls.push(name)
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(listener) as [() => number, () => number, () => number, () => number]
    const { signal } = controller
    for (const l of [a, b, c, d, b]) signal.addEventListener('abort', l)
    signal.removeEventListener('abort', a)
    signal.removeEventListener('abort', c)
    signal.removeEventListener('abort', b)
    signal.addEventListener('abort', a)
    controller.abort()
    expect(calls).toEqual(['b', 'd', 'a'])
  })

  it('aborts with an AbortError DOMException when given no reason', () => {
    const controller = createAbortController()
    controller.abort()
    expect(controller.signal.reason).toBeInstanceOf(DOMException)
    expect(controller.signal.reason).toMatchObject({ name: 'AbortError' })
  })

  it('runs every listener even when one throws, and reports the error asynchronously', async () => {
    const controller = createAbortController()
    const calls: string[] = []
    controller.signal.addEventListener('abort', () => {
      throw new Error('listener failed')
    })
    controller.signal.addEventListener('abort', () => calls.push('second'))
    const reported = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve))
    controller.abort()
    expect(calls).toEqual(['second'])
    expect(await reported).toMatchObject({ message: 'listener failed' })
  })
})

describe('toRealSignal', () => {
  it('returns a real signal as it is', () => {
    const signal = new AbortController().signal
    expect(toRealSignal(signal).signal).toBe(signal)
  })

  it('links a real AbortSignal to a light one until released', () => {
    const controller = createAbortController()
    const linked = toRealSignal(controller.signal)
    expect(linked.signal).toBeInstanceOf(AbortSignal)
    controller.abort('why')
    expect(linked.signal.aborted).toBe(true)
    expect(linked.signal.reason).toBe('why')

    const other = createAbortController()
    const released = toRealSignal(other.signal)
    released.release()
    other.abort('late')
    expect(released.signal.aborted).toBe(false)
  })

  it('is aborted already when the light signal is', () => {
    const controller = createAbortController()
    controller.abort('done')
    expect(toRealSignal(controller.signal).signal.reason).toBe('done')
  })
})
