import { describe, expect, it } from 'vitest'
import { DEFAULT_DURATION_S, FAST_DURATION_S, parseDemoArgs } from '../../demo/options.js'

describe('demo options', () => {
  it.each([
    [[], { durationMs: DEFAULT_DURATION_S * 1000, plain: false, help: false }],
    [['--fast'], { durationMs: FAST_DURATION_S * 1000 }],
    [['--duration', '7.5', '--plain'], { durationMs: 7_500, plain: true }],
    [['-h'], { help: true }],
  ])('%j', (argv, expected) => {
    expect(parseDemoArgs(argv)).toMatchObject(expected)
  })

  it.each([
    [['--duration', 'soon'], /--duration expects seconds between 5 and 600, got "soon"/],
    [['--duration', '2'], /between 5 and 600/],
    [['--fast', '--duration', '10'], /not both/],
    [['--loud'], /Unknown option '--loud'/],
    [['extra'], /positional/i],
  ])('rejects %j', (argv, message) => {
    expect(() => parseDemoArgs(argv)).toThrow(message)
  })
})
