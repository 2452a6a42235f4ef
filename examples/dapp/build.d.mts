/** Bundles examples/dapp into `outdir` (default .tmp/dapp); throws on any esbuild warning. */
export function buildDapp(options?: { outdir?: string }): Promise<{
  outdir: string
  /** Size of main.js (bytes). */
  bytes: number
  /** Every input esbuild read, relative to the repository root. */
  inputs: string[]
  warnings: string[]
}>
