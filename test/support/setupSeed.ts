import fc from 'fast-check'
import { inject } from 'vitest'

// Every fast-check property of the file runs from the run's seed (test/support/globalSeed.ts).
fc.configureGlobal({ seed: inject('seed') })
