// The registry this project installs from lacks some platform builds that packages list as
// optional dependencies (anvil's macOS/Windows/arm binaries). npm then leaves them out of
// package-lock.json, and `npm ci` refuses a lockfile that misses an optional dependency. This adds
// a stub entry (version, os, cpu; nothing to download) for each missing one, so every platform's
// `npm ci` accepts the lockfile and skips the packages that are not for it.
// Run after `npm install` changes the lockfile: `npm run lock:platforms`.
import { readFileSync, writeFileSync } from 'node:fs'

const OS = { darwin: 'darwin', linux: 'linux', win32: 'win32', windows: 'win32', freebsd: 'freebsd', openbsd: 'openbsd', android: 'android', openharmony: 'openharmony' }
const CPU = { amd64: 'x64', x64: 'x64', arm64: 'arm64', aarch64: 'arm64', arm: 'arm', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x' }
const LIBC = { gnu: 'glibc', gnueabihf: 'glibc', musl: 'musl', musleabihf: 'musl' }
const PLATFORM = new RegExp(`-(${Object.keys(OS).join('|')})-(${Object.keys(CPU).join('|')})(?:-(\\w+))?$`)

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'))
const added = []
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`
    if (lock.packages[key]) continue
    const m = PLATFORM.exec(name)
    if (!m || !/^\d+\.\d+\.\d+$/.test(range)) {
      console.error(`cannot stub ${name}@${range} (needed by ${path || 'the root'}): not an exact platform build`)
      process.exitCode = 1
      continue
    }
    const libc = m[3] && LIBC[m[3]]
    lock.packages[key] = { version: range, cpu: [CPU[m[2]]], ...(entry.dev ? { dev: true } : {}), ...(libc ? { libc: [libc] } : {}), optional: true, os: [OS[m[1]]] }
    added.push(`${name}@${range}`)
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))))
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`)
console.log(added.length > 0 ? `stubbed: ${added.join(', ')}` : 'lockfile already lists every optional platform build')
