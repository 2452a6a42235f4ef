// The pool's internal cancellation: an AbortController without the EventTarget. On Node 20 a fresh
// AbortSignal costs ~17 µs (it is made transferable) and its first listener ~20 µs more, measured;
// a request used two of them, which was most of what the pool added per request at concurrency 1.
// These signals never leave the library: the node:http transport listens to them directly, and the
// fetch transport links a real AbortSignal to one only when it needs one (real signals are cheap in
// browsers, where fetch is the transport).

type Listener = (event: { type: 'abort'; target: unknown }) => void

/** The subset of `AbortSignal` the library relies on. */
class LightSignal {
  aborted = false
  reason: unknown = undefined
  // The first listener in a field, the others (rarely more than one) in an array: a signal that
  // lives for one attempt gets and loses its listeners without allocating.
  #first: Listener | undefined
  #rest: Listener[] | undefined

  addEventListener(type: string, listener: Listener): void {
    // Like an EventTarget: a listener added after the abort never runs.
    if (type !== 'abort' || this.aborted) return
    if (this.#first === undefined) this.#first = listener
    else (this.#rest ??= []).push(listener)
  }

  /** Removes the listener's latest registration; the others keep their order. */
  removeEventListener(type: string, listener: Listener): void {
    if (type !== 'abort') return
    const rest = this.#rest
    if (rest !== undefined && rest.length > 0) {
      const i = rest.lastIndexOf(listener)
      if (i === rest.length - 1) return void rest.pop()
      if (i >= 0) return void rest.splice(i, 1)
    }
    if (this.#first === listener) this.#first = rest !== undefined && rest.length > 0 ? rest.shift() : undefined
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason
  }

  /** Internal: called once by the controller. Every listener runs even if one throws (reported like an EventTarget's). */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const first = this.#first
    const rest = this.#rest
    this.#first = undefined
    this.#rest = undefined
    if (first === undefined) return
    const event = { type: 'abort' as const, target: this }
    run(first, event)
    if (rest !== undefined) for (const listener of rest) run(listener, event)
  }
}

function run(listener: Listener, event: { type: 'abort'; target: unknown }): void {
  try {
    listener(event)
  } catch (error) {
    queueMicrotask(() => {
      throw error
    })
  }
}

class LightController {
  readonly signal = new LightSignal()

  abort(reason?: unknown): void {
    this.signal.abort(reason === undefined ? abortError() : reason)
  }
}

/** An `AbortController` for the library's own signals (cheap); see the note at the top of this module. */
export function createAbortController(): AbortController {
  return new LightController() as unknown as AbortController
}

/**
 * `signal` as a real `AbortSignal`, for APIs that check (fetch). A real one is returned as is; a light
 * one gets a linked real controller, and `release()` unlinks it once the API call is over.
 */
export function toRealSignal(signal: AbortSignal): { signal: AbortSignal; release: () => void } {
  if (!(signal instanceof LightSignal)) return { signal, release: noop }
  const controller = new AbortController()
  if (signal.aborted) {
    controller.abort(signal.reason)
    return { signal: controller.signal, release: noop }
  }
  const onAbort = () => controller.abort(signal.reason)
  signal.addEventListener('abort', onAbort)
  return { signal: controller.signal, release: () => (signal as unknown as LightSignal).removeEventListener('abort', onAbort) }
}

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError')
}

function noop(): void {}
