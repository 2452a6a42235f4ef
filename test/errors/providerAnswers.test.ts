import { describe, expect, it } from 'vitest'
import { PROVIDER_ANSWERS } from '../fixtures/providerAnswers.js'

// The corpus of real provider answers (test/fixtures/providerAnswers.ts) keeps its own rules.

describe('the corpus', () => {
  it('holds at least 40 answers from at least 10 providers or implementations, each named once', () => {
    const ids = PROVIDER_ANSWERS.map((a) => a.id)
    expect(ids.length).toBeGreaterThanOrEqual(40)
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/)
    const providers = new Set(PROVIDER_ANSWERS.map((a) => a.provider.replace(/ \(.*\)$/, '')))
    expect(providers.size).toBeGreaterThanOrEqual(10)
  })

  it.each(PROVIDER_ANSWERS)('$id: its source can be checked, its batch answers a batch', (answer) => {
    expect(answer.source).toMatch(/^https:\/\/(github\.com|docs\.|www\.)/)
    if (answer.batch !== undefined) expect(answer.batch).toBeGreaterThan(1)
  })

  it.each(PROVIDER_ANSWERS.filter((a) => a.suggestedRange !== undefined))('$id: the suggested range is the one the answer names', (answer) => {
    const { from, to } = answer.suggestedRange!
    const named = (n: bigint) => new RegExp(`0x0*${n.toString(16)}\\b|\\b${n}\\b`, 'i')
    expect(answer.http.body).toMatch(named(from))
    expect(answer.http.body).toMatch(named(to))
    expect(from).toBeLessThanOrEqual(to)
  })

  it.each(PROVIDER_ANSWERS.filter((a) => a.retryAfterMs !== undefined))('$id: the back-off is the one the answer names', (answer) => {
    const seconds = answer.retryAfterMs! / 1000
    const header = answer.http.headers?.['retry-after']
    expect(header === String(seconds) || new RegExp(`"backoff_seconds":${seconds}\\b`).test(answer.http.body)).toBe(true)
  })
})
