/**
 * Request/reply over a forked child's IPC channel, for the bench's server and client workers.
 * Children exit as soon as the channel closes, so none can outlive the bench.
 */
import { fork, type ChildProcess } from 'node:child_process'

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

export type ChildHandle<C> = {
  readonly process: ChildProcess
  call<T = unknown>(command: C): Promise<T>
  /** Closes the channel and waits for the child to exit (it exits on disconnect). */
  stop(): Promise<void>
}

/** Parent side: forks `file` and resolves once the child says it is ready. */
export async function forkChild<C extends object>(file: string, execArgv: string[] = []): Promise<ChildHandle<C>> {
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  let exited = false
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`${file} exited before it was ready (${code ?? signal})`)))
    child.on('message', (raw) => {
      const msg = raw as Reply
      if (msg.id === 0) return resolve()
      const p = pending.get(msg.id)
      pending.delete(msg.id)
      if (msg.ok) p?.resolve(msg.value)
      else p?.reject(new Error(msg.error))
    })
  })
  child.once('exit', (code, signal) => {
    exited = true
    for (const p of pending.values()) p.reject(new Error(`${file} exited (${code ?? signal})`))
    pending.clear()
  })
  await ready
  return {
    process: child,
    call<T>(command: C): Promise<T> {
      if (exited) return Promise.reject(new Error(`${file} has exited`))
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        child.send({ id, ...command })
      })
    },
    async stop() {
      if (exited) return
      const done = new Promise((r) => child.once('exit', r))
      child.disconnect()
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await done
      clearTimeout(kill)
    },
  }
}

/** Child side: answers each command with `handle`'s result, then tells the parent it is ready. */
export function serveParent<C extends object>(handle: (command: C) => Promise<unknown>): void {
  // A reply to a parent that has just gone (Ctrl-C mid-run) is dropped, not an EPIPE crash.
  const reply = (message: Reply) => {
    if (process.connected) process.send?.(message, () => {})
  }
  process.on('message', (raw) => {
    const { id, ...command } = raw as { id: number } & C
    handle(command as unknown as C).then(
      (value) => reply({ id, ok: true, value }),
      (error: unknown) => reply({ id, ok: false, error: String((error as Error)?.stack ?? error) }),
    )
  })
  // The parent is gone (finished, crashed or killed): nothing here may outlive it.
  process.on('disconnect', () => process.exit(0))
  reply({ id: 0, ok: true, value: 'ready' })
}
