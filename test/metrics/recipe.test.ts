import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'

// `npm run typecheck` checks examples/prometheus.ts; the recipe must show that same code.

it('docs/recipes/prometheus.md shows examples/prometheus.ts verbatim', async () => {
  const root = new URL('../../', import.meta.url)
  const [doc, example] = await Promise.all([readFile(new URL('docs/recipes/prometheus.md', root), 'utf8'), readFile(new URL('examples/prometheus.ts', root), 'utf8')])
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
  expect(blocks).toEqual([example])
})
