import { describe, expect, it } from 'vitest'
import { readJsonFile } from '../../src/cli/jsonFile.js'

const files = (map: Record<string, string>) => async (path: string) => {
  if (path in map) return map[path]!
  throw Object.assign(new Error('EACCES'), { code: 'EACCES' })
}

describe('readJsonFile', () => {
  it('parses the file', async () => {
    expect(await readJsonFile('a.json', 'ABI file', files({ 'a.json': '[1, {"b": 2}]' }))).toEqual([1, { b: 2 }])
  })

  it('names the file and the system code when it cannot read it, with the hint', async () => {
    await expect(readJsonFile('x.json', 'ABI file', files({}), '; or give a signature')).rejects.toThrow(/^cannot read ABI file "x.json" \(EACCES\); or give a signature$/)
  })

  it('says where the JSON broke, never what the text says there', async () => {
    const error = await readJsonFile('k.json', 'config file', files({ 'k.json': '{"endpoints": [\n  "http://a/v3/k3y" "http://b"]}' })).catch((e: Error) => e)
    expect(error).toMatchObject({ name: 'UsageError', message: 'config file "k.json" is not valid JSON (line 2, column 21)' })
  })
})
