import type { TestProject } from 'vitest/node'
import { runSeed } from './seed.js'

declare module 'vitest' {
  export interface ProvidedContext {
    seed: number
  }
}

/** vitest globalSetup: one seed for the whole run, printed once, handed to every test file. */
export default function setup(project: TestProject): void {
  const seed = runSeed()
  console.log(`random seed ${seed} (replay: FUZZ_SEED=${seed})`)
  project.provide('seed', seed)
}
