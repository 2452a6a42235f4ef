// The one seed of a test run's randomness (fast-check properties, the chaos matrix's sample of pairs):
// fixed in `npm test`, so a fresh clone's run is the same run every time; `npm run fuzz` hands each run
// a new one through FUZZ_SEED, and prints the seeds that failed so they can be replayed.

/** The seed `npm test` runs with. */
export const FIXED_SEED = 20_261_207

/** FUZZ_SEED as given (a number, or `random` for a new one), else the fixed seed. */
export function runSeed(env: Record<string, string | undefined> = process.env): number {
  const given = env.FUZZ_SEED
  if (given === undefined || given === '') return FIXED_SEED
  if (given === 'random') return Math.floor(Math.random() * 2 ** 31)
  const seed = Number(given)
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", got ${JSON.stringify(given)}`)
  return seed
}
