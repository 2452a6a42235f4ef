// Fails when a file under src/ is longer than MAX_LINES (counted as `wc -l` counts: newlines), so a
// reader never meets a file that does many jobs. Split by concern, not by line number.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const MAX_LINES = 400
const files = (dir) => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]))
const long = files('src')
  .map((file) => ({ file, lines: (readFileSync(file, 'utf8').match(/\n/g) ?? []).length }))
  .filter(({ lines }) => lines > MAX_LINES)
for (const { file, lines } of long) console.error(`${file}: ${lines} lines (at most ${MAX_LINES})`)
if (long.length > 0) process.exit(1)
console.log(`every file under src/ has at most ${MAX_LINES} lines`)
