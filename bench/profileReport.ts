/**
 * Reads a V8 .cpuprofile of a bundled child and attributes self time to original sources: functions
 * of the bundle are mapped back through its source map to src/… lines, everything else is grouped by
 * package (p-retry, opossum, …) or runtime part (undici, node core, GC).
 */
import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number }
type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export type FunctionCost = { name: string; where: string; category: string; selfUs: number }
export type ProfileAnalysis = { totalUs: number; functions: FunctionCost[]; categories: Map<string, number> }

/** Self time of every function (µs), with bundle locations mapped back to the repository's sources. */
export function analyzeProfile(file: string, repoRoot: string): ProfileAnalysis {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  // Sample i lasted until sample i+1: attribute timeDeltas[i+1] to it.
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + dt)
  }
  // Node's SourceMap ignores `sourceRoot`, which bench/run.mjs sets so that sources resolve through
  // the checkout even when node_modules (and so the bundle's real path) lies in another one.
  const maps = new Map<string, { map: SourceMap; root: string | undefined } | undefined>()
  const mapFor = (url: string) => {
    if (!maps.has(url)) {
      let entry: { map: SourceMap; root: string | undefined } | undefined
      try {
        const path = fileURLToPath(url)
        if (existsSync(`${path}.map`)) {
          const payload = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as { sourceRoot?: string }
          entry = { map: new SourceMap(payload as never), root: payload.sourceRoot || undefined }
        }
      } catch {
        entry = undefined
      }
      maps.set(url, entry)
    }
    return maps.get(url)
  }

  const functions = new Map<string, FunctionCost>()
  const categories = new Map<string, number>()
  let totalUs = 0
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame
    if (!frame || us === 0) continue
    totalUs += us
    let where = frame.url
    if (frame.url.startsWith('file://')) {
      const mapped = mapFor(frame.url)
      const entry = mapped?.map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined
      if (entry?.originalSource) {
        const original = entry.originalSource
        const source = original.startsWith('file://')
          ? fileURLToPath(original)
          : mapped?.root
            ? fileURLToPath(new URL(original, mapped.root))
            : resolve(dirname(fileURLToPath(frame.url)), original)
        where = `${relative(repoRoot, source)}:${(entry.originalLine ?? 0) + 1}`
      } else {
        where = `${relative(repoRoot, fileURLToPath(frame.url))}:${frame.lineNumber + 1}`
      }
    } else if (where !== '') {
      where = `${where}:${frame.lineNumber + 1}`
    }
    const category = categorize(where, frame.functionName)
    const name = frame.functionName || '(anonymous)'
    const key = `${name}@${where}`
    const f = functions.get(key) ?? { name, where, category, selfUs: 0 }
    f.selfUs += us
    functions.set(key, f)
    categories.set(category, (categories.get(category) ?? 0) + us)
  }
  return { totalUs, functions: [...functions.values()].sort((a, b) => b.selfUs - a.selfUs), categories }
}

function categorize(where: string, name: string): string {
  if (where === '') {
    if (name === '(garbage collector)') return 'GC'
    if (name === '(idle)') return 'idle'
    if (name === '(program)') return 'V8 (program)'
    return 'V8 builtins'
  }
  if (where.startsWith('src/')) return 'resilient-rpc src/'
  if (where.startsWith('bench/') || where.startsWith('test/')) return 'bench harness'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)
  if (pkg) return pkg[1]!
  if (where.includes('deps/undici')) return 'undici (fetch)'
  if (where.startsWith('node:')) return 'node core'
  return 'other'
}
