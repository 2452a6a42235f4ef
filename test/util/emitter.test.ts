import { describe, expect, it } from 'vitest'
import { SafeEmitter } from '../../src/util/emitter.js'

type Events = { tick: [n: number]; error: [error: unknown] }

describe('SafeEmitter', () => {
  it('a listener that throws neither stops the listeners after it nor reaches the emitter; its throw is an error event', () => {
    const e = new SafeEmitter<Events>()
    const heard: string[] = []
    const errors: unknown[] = []
    e.on('error', (error) => errors.push(error))
    e.on('tick', () => {
      throw new Error('first')
    })
    e.on('tick', (n) => heard.push(`second ${n}`))
    expect(() => e.emit('tick', 1)).not.toThrow()
    expect(heard).toEqual(['second 1'])
    expect(errors).toEqual([new Error('first')])
  })

  it('a throw from an error listener is dropped', () => {
    const e = new SafeEmitter<Events>()
    e.on('error', () => {
      throw new Error('in error')
    })
    e.on('tick', () => {
      throw new Error('in tick')
    })
    expect(() => e.emit('tick', 1)).not.toThrow()
  })

  it('once runs a listener once; off removes one registration at a time, or all of an event', () => {
    const e = new SafeEmitter<Events>()
    const heard: number[] = []
    const listener = (n: number) => heard.push(n)
    e.once('tick', listener)
    e.emit('tick', 1)
    e.emit('tick', 2)
    expect(heard).toEqual([1])
    e.on('tick', listener)
    e.on('tick', listener)
    e.emit('tick', 3)
    e.off('tick', listener)
    e.emit('tick', 4)
    expect(heard).toEqual([1, 3, 3, 4])
    expect(e.listenerCount('tick')).toBe(1)
    e.off('tick')
    e.emit('tick', 5)
    expect(heard).toEqual([1, 3, 3, 4])
    expect(e.listenerCount('tick')).toBe(0)
    // A once listener removed before it ran never runs.
    e.once('tick', listener)
    e.off('tick', listener)
    e.emit('tick', 6)
    expect(heard).toEqual([1, 3, 3, 4])
  })
})
