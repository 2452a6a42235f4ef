// Type-checks every ```ts code block in README.md and docs/**/*.md against the sources, so a sample
// cannot drift from the API. Each block is its own module; names a sample uses without defining
// (a `pool`, an `abi`, the user's `credit()`…) are declared once in docs/samples.d.ts. A block whose
// info string says `nocheck` is skipped (for deliberate fragments).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const out = join(root, '.tmp', 'doc-samples')

function markdownFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return markdownFiles(path)
    return name.endsWith('.md') ? [path] : []
  })
}

const files = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))]
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

/** Generated file name → where its first line sits in the markdown. */
const origins = new Map()
let blocks = 0
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)\b(.*)$/.exec(lines[i].trim())
    if (!open) continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end].trim() !== '```') end++
    i = end
    if (/\bnocheck\b/.test(open[2])) continue
    const name = `${relative(root, file).replace(/[/.]/g, '_')}_${start + 1}.ts`
    writeFileSync(join(out, name), `${lines.slice(start, end).join('\n')}\nexport {}\n`)
    origins.set(name, { file: relative(root, file), line: start + 1 })
    blocks++
  }
}

writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: { noUnusedLocals: false, noEmit: true },
    include: ['./*.ts', '../../docs/samples.d.ts'],
  }),
)

try {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')], { stdio: 'pipe' })
} catch (error) {
  const text = String(error.stdout ?? '') + String(error.stderr ?? '')
  // Point each error at the markdown line it came from.
  const mapped = text.replace(/(?:\.tmp\/doc-samples\/)?([\w-]+\.ts)\((\d+),(\d+)\)/g, (whole, name, line, col) => {
    const origin = origins.get(name)
    return origin ? `${origin.file}:${origin.line + Number(line) - 1}:${col}` : whole
  })
  console.error(mapped)
  console.error(`doc samples: type errors in the code blocks above`)
  process.exit(1)
}
console.log(`doc samples: ${blocks} code blocks in ${files.length} markdown files type-check`)
