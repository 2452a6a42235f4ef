import type { EventFragment, Interface, InterfaceAbi, Result } from 'ethers'
import { parseAbi } from '../contract/contract.js'
import { InvalidAbiError } from '../errors/contract.js'
import { InvalidOptionError } from '../errors/invalidOption.js'
import type { RpcLog } from '../subscriptions/logs.js'
import { showJson } from '../util/show.js'
import { HASH } from '../util/hex.js'

/** The `topics` of an `eth_getLogs` filter: per position, one topic, any of several, or `null` (any). */
export type TopicFilter = ReadonlyArray<string | readonly string[] | null>

/** One log as the handler sees it: decoded when an ABI was given. */
export type WatchedEvent = {
  /** The event's name from the ABI; `undefined` without an ABI (raw `topics` mode). */
  readonly eventName: string | undefined
  /** Decoded arguments by name (and by position for unnamed ones); `undefined` without an ABI. */
  readonly args: Readonly<Record<string, unknown>> | undefined
  /** The log as the node sent it. */
  readonly log: RpcLog
  readonly blockNumber: bigint
  readonly blockHash: string
  readonly logIndex: number
  readonly transactionHash: string
  /**
   * `true` for a notice that this log, delivered before, left the canonical chain (a reorg deeper
   * than `confirmations`); undo what its delivery did. Its replacement, if any, follows as a new event.
   */
  readonly removed: boolean
}

export type EventDecoder = {
  /** The `topics` filter to send with `eth_getLogs`, `undefined` for every log of the address. */
  readonly topics: TopicFilter | undefined
  /** @throws `INVALID_ABI` when the log does not match its event's ABI (wrong indexed layout, short data) */
  decode(log: RpcLog, removed: boolean): WatchedEvent
}

export type DecoderOptions = {
  abi?: InterfaceAbi
  eventName?: string
  topics?: TopicFilter
}


/**
 * Builds the topic filter and the decoder. With an ABI, logs are filtered to its events (or to
 * `eventName`'s topic0) so a log the ABI cannot name never arrives; without one, `topics` is sent as
 * given and events are raw.
 * @throws `INVALID_ABI`, `INVALID_OPTION` (unknown or ambiguous `eventName`, `eventName` without ABI, malformed topics)
 */
export function createEventDecoder(options: DecoderOptions): EventDecoder {
  const { abi, eventName, topics } = options
  if (topics !== undefined) checkTopics(topics)
  if (abi === undefined) {
    if (eventName !== undefined) throw new InvalidOptionError('eventName', 'needs an `abi` to name events')
    return { topics, decode: (log, removed) => shape(log, removed, undefined, undefined) }
  }
  const iface = parseAbi(abi)
  const events: EventFragment[] = []
  iface.forEachEvent((e) => events.push(e))
  let selected: EventFragment[]
  if (eventName !== undefined) {
    let one: EventFragment | null = null
    try {
      one = typeof eventName === 'string' ? iface.getEvent(eventName) : null
    } catch (cause) {
      throw new InvalidOptionError('eventName', `${showJson(eventName)} does not name one event of the ABI (overloaded? give the full signature)`, { cause })
    }
    if (!one) throw new InvalidOptionError('eventName', `the ABI has no event ${showJson(eventName)}`)
    selected = [one]
  } else {
    selected = events.filter((e) => !e.anonymous)
    if (selected.length === 0) throw new InvalidOptionError('abi', 'has no (non-anonymous) event to watch')
  }
  const topic0 = selected.map((e) => e.topicHash)
  // A user's topics narrow the indexed arguments; position 0 is the event itself.
  const filter: TopicFilter = [topic0.length === 1 ? topic0[0]! : topic0, ...(topics ?? []).slice(1)]
  const byTopic = new Map(selected.map((e) => [e.topicHash.toLowerCase(), e]))
  return {
    topics: filter,
    decode(log, removed) {
      const fragment = byTopic.get(String(log.topics[0]).toLowerCase())
      if (!fragment) throw new InvalidAbiError(`log ${log.transactionHash}#${BigInt(log.logIndex)} has topic0 ${String(log.topics[0])}, not an event of the filter`)
      return shape(log, removed, fragment.name, decodeArgs(iface, fragment, log))
    },
  }
}

function decodeArgs(iface: Interface, fragment: EventFragment, log: RpcLog): Record<string, unknown> {
  let result: Result
  try {
    result = iface.decodeEventLog(fragment, log.data, log.topics as string[])
  } catch (cause) {
    throw new InvalidAbiError(`log ${log.transactionHash}#${BigInt(log.logIndex)} does not match ${fragment.format()}`, { cause })
  }
  const args: Record<string, unknown> = {}
  fragment.inputs.forEach((input, i) => {
    args[input.name === '' ? String(i) : input.name] = result[i]
  })
  return args
}

function shape(log: RpcLog, removed: boolean, eventName: string | undefined, args: Record<string, unknown> | undefined): WatchedEvent {
  return {
    eventName,
    args,
    log,
    blockNumber: BigInt(log.blockNumber),
    blockHash: log.blockHash,
    logIndex: Number(BigInt(log.logIndex)),
    transactionHash: log.transactionHash,
    removed,
  }
}

function checkTopics(topics: TopicFilter): void {
  if (!Array.isArray(topics) || topics.length > 4) throw new InvalidOptionError('topics', 'expected an array of at most 4 positions')
  topics.forEach((t, i) => {
    const ok = t === null || (typeof t === 'string' && HASH.test(t)) || (Array.isArray(t) && t.every((x) => typeof x === 'string' && HASH.test(x)))
    if (!ok) throw new InvalidOptionError(`topics[${i}]`, 'expected a 32-byte hex topic, an array of them, or null')
  })
}
