import { EventEmitter } from 'eventemitter3'

/** Event names to listener argument tuples; every emitter reports its listeners' throws as `error`. */
export type EventMap = { error: [error: unknown] } & Record<string, unknown[]>

/** `on`/`once`/`off` of an object that emits `E`, each returning `Self` for chaining. */
export type Listenable<E extends EventMap, Self> = {
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): Self
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): Self
  off<K extends keyof E>(event: K, listener?: (...args: E[K]) => void): Self
}

/**
 * A typed eventemitter3 whose `emit` never throws: a listener that throws is reported as an `error`
 * event (a throw from an `error` listener is dropped), so emitting from a request path, a socket
 * handler or a timer callback cannot break it. Events are for observation only.
 */
export class SafeEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter()

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    this.#emitter.on(event as string, listener as (...args: unknown[]) => void)
  }

  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    this.#emitter.once(event as string, listener as (...args: unknown[]) => void)
  }

  off<K extends keyof E>(event: K, listener?: (...args: E[K]) => void): void {
    this.#emitter.off(event as string, listener as ((...args: unknown[]) => void) | undefined)
  }

  listenerCount(event: keyof E): number {
    return this.#emitter.listenerCount(event as string)
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    try {
      this.#emitter.emit(event as string, ...args)
    } catch (error) {
      if (event !== 'error') this.emit('error', ...([error] as E['error']))
    }
  }

  removeAllListeners(): void {
    this.#emitter.removeAllListeners()
  }
}
