import { runSoak } from './soak.js'

// Entry point of `npm run soak` (scripts/soak.mjs runs it under vite-node with --expose-gc).
const minutes = Number(process.env.SOAK_MINUTES ?? 10)
const seed = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`soak: ${minutes} min of rolling faults, SOAK_SEED=${seed}`)
const result = await runSoak({ durationMs: minutes * 60_000, seed })
process.exit(result.problems.length === 0 ? 0 : 1)
