/**
 * Entry of a one-shot bench child (cpu, memory, profile): runs `main`, prints its result as the one
 * JSON line the parent reads, and exits — 1 with the error on stderr if it threw.
 */
export function runChildMain(main: () => Promise<object>): void {
  main().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}

/** What a child that marks its measured part prints before it waits for a line on stdin (bench/cpu.ts). */
export const MARK = '#bench-cpu-mark '
