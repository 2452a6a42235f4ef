import { EventEmitter } from 'eventemitter3'

/** Event names to listener argument tuples; every emitter reports its listeners' throws as `error`. */
export type EventMap = { error: [error: unknown] } & Record<string, unknown[]>

/** `on`/`once`/`off` of an object that emits `E`, each returning `Self` for chaining. */
export type Listenable<E extends EventMap, Self> = {
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): Self
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): Self
  off<K extends keyof E>(event: K, listener?: (...args: E[K]) => void): Self
}

type Guarded = (...args: unknown[]) => void
type Listener = Guarded

/**
 * A typed eventemitter3 whose listeners are isolated from each other and from the emitter: each one
 * runs in its own guard, so one that throws neither stops the listeners after it nor reaches the code
 * that emitted (a request path, a socket handler, a timer callback); its throw is emitted as `error`
 * (a throw from an `error` listener is dropped). Events are for observation only.
 */
export class SafeEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter()
  /** The guard registered for each listener, so `off` finds it (a listener may be added more than once). */
  readonly #guards = new Map<Listener, Guarded[]>()

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    this.#emitter.on(event as string, this.#guard(event, listener as unknown as Listener, false))
  }

  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    this.#emitter.once(event as string, this.#guard(event, listener as unknown as Listener, true))
  }

  off<K extends keyof E>(event: K, listener?: (...args: E[K]) => void): void {
    if (listener === undefined) {
      for (const guard of this.#emitter.listeners(event as string)) this.#forget(guard as Guarded)
      this.#emitter.removeAllListeners(event as string)
      return
    }
    const guard = this.#guards.get(listener as unknown as Listener)?.at(-1)
    if (guard === undefined) return
    this.#forget(guard)
    this.#emitter.off(event as string, guard)
  }

  listenerCount(event: keyof E): number {
    return this.#emitter.listenerCount(event as string)
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    this.#emitter.emit(event as string, ...args)
  }

  removeAllListeners(): void {
    this.#emitter.removeAllListeners()
    this.#guards.clear()
  }

  #guard(event: keyof E, listener: Listener, once: boolean): Guarded {
    const guard: Guarded & { listener?: Listener } = (...args) => {
      if (once) this.#forget(guard)
      try {
        listener(...args)
      } catch (error) {
        if (event !== 'error') this.emit('error', ...([error] as E['error']))
      }
    }
    guard.listener = listener
    const guards = this.#guards.get(listener)
    if (guards) guards.push(guard)
    else this.#guards.set(listener, [guard])
    return guard
  }

  #forget(guard: Guarded & { listener?: Listener }): void {
    const listener = guard.listener
    if (listener === undefined) return
    const guards = this.#guards.get(listener)
    if (!guards) return
    const i = guards.lastIndexOf(guard)
    if (i >= 0) guards.splice(i, 1)
    if (guards.length === 0) this.#guards.delete(listener)
  }
}

/**
 * A base for objects that emit `E` through a `SafeEmitter`: `on`, `once` and `off` chain on the
 * object itself, and `emitter` is the subclass's to emit with and to clear on teardown.
 */
export class EventSource<E extends EventMap> implements Listenable<E, unknown> {
  protected readonly emitter = new SafeEmitter<E>()

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.on(event, listener)
    return this
  }

  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.once(event, listener)
    return this
  }

  off<K extends keyof E>(event: K, listener?: (...args: E[K]) => void): this {
    this.emitter.off(event, listener)
    return this
  }
}
