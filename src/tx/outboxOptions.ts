import { InvalidOptionError } from '../errors/invalidOption.js'
import { boolean, duration, integer, knownKeys, optionNames, optionalFunction, optionalSignal, optionsObject } from '../config/validate.js'
import { systemClock, type Clock } from '../util/clock.js'
import { show } from '../util/show.js'
import type { OutboxOptions, OutboxSendOptions, OutboxState, OutboxStateEvent, OutboxStorage } from './outboxTypes.js'
import { createMemoryOutboxStorage } from './outboxStorage.js'

/** The outbox's defaults (ms), documented on `OutboxOptions`. */
export const DEFAULT_OUTBOX = {
  rebroadcastInterval: 10_000,
  pollInterval: 2_000,
  dropAfter: 120_000,
  timeout: 600_000,
} as const

export type ResolvedOutboxOptions = {
  storage: OutboxStorage
  rebroadcastInterval: number
  pollInterval: number
  dropAfter: number
  timeout: number
  unref: boolean
  clock: Clock
  onState: ((event: OutboxStateEvent) => void) | undefined
}

/** `createOutbox`'s options with their defaults, or `INVALID_OPTION`. */
export function resolveOutboxOptions(options: OutboxOptions): ResolvedOutboxOptions {
  optionsObject('options', options)
  knownKeys('', options, OUTBOX_OPTIONS)
  const storage = optionsObject('storage', options.storage) ?? createMemoryOutboxStorage()
  for (const key of ['load', 'save', 'remove'] as const) {
    if (typeof storage[key] !== 'function') throw new InvalidOptionError(`storage.${key}`, `expected a function, got ${show(storage[key])}`)
  }
  return {
    storage,
    rebroadcastInterval: duration('rebroadcastInterval', options.rebroadcastInterval, DEFAULT_OUTBOX.rebroadcastInterval),
    pollInterval: duration('pollInterval', options.pollInterval, DEFAULT_OUTBOX.pollInterval),
    dropAfter: duration('dropAfter', options.dropAfter, DEFAULT_OUTBOX.dropAfter, true),
    timeout: duration('timeout', options.timeout, DEFAULT_OUTBOX.timeout, false, true),
    unref: boolean('unref', options.unref, false),
    clock: options.clock ?? systemClock,
    onState: optionalFunction('onState', options.onState),
  }
}

export type ResolvedSendOptions = {
  confirmations: number
  /** In the outbox clock's time; `Infinity` for none. */
  deadline: number
  signal: AbortSignal | undefined
  onState: ((state: OutboxState) => void) | undefined
}

/** `outbox.send`'s options, the deadline worked out from `now`, or `INVALID_OPTION`. */
export function resolveSendOptions(options: OutboxSendOptions, outbox: ResolvedOutboxOptions): ResolvedSendOptions {
  optionsObject('options', options)
  knownKeys('', options, SEND_OPTIONS)
  const confirmations = integer('confirmations', options.confirmations, 1, 1)
  const timeout = duration('timeout', options.timeout, outbox.timeout, false, true)
  if (options.deadline !== undefined && (typeof options.deadline !== 'number' || Number.isNaN(options.deadline))) {
    throw new InvalidOptionError('deadline', `expected a time in ms, got ${show(options.deadline)}`)
  }
  return {
    confirmations,
    deadline: Math.min(options.deadline ?? Infinity, outbox.clock.now() + timeout),
    signal: optionalSignal('signal', options.signal),
    onState: optionalFunction('onState', options.onState),
  }
}

const OUTBOX_OPTIONS = optionNames<OutboxOptions>({ storage: true, rebroadcastInterval: true, pollInterval: true, dropAfter: true, timeout: true, onState: true, unref: true, clock: true })
const SEND_OPTIONS = optionNames<OutboxSendOptions>({ confirmations: true, deadline: true, timeout: true, signal: true, onState: true })
