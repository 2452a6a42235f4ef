import { ResilientRpcError, type ResilientRpcErrorOptions } from './base.js'

/** An option passed to a `createX` factory or a call is invalid. Thrown synchronously at construction. */
export class InvalidOptionError extends ResilientRpcError {
  override name = 'InvalidOptionError'
  /** Path of the offending option, e.g. `endpoints[1].weight`. */
  readonly option: string
  constructor(option: string, problem: string, options: ResilientRpcErrorOptions = {}) {
    super('INVALID_OPTION', `Invalid option \`${option}\`: ${problem}`, options)
    this.option = option
  }
}
