import { InvalidOptionError } from '../errors/invalidOption.js'
import type { Pool } from '../pool/pool.js'
import { show } from '../util/show.js'

/**
 * Checks the `pool` an adapter is built on, so that a wrong argument fails at creation rather than
 * at the first request.
 * @throws `INVALID_OPTION`
 */
export function checkPool(pool: Pool): void {
  if (typeof pool !== 'object' || pool === null || typeof pool.request !== 'function') throw new InvalidOptionError('pool', `expected a pool from createPool(), got ${show(pool)}`)
}
