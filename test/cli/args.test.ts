import { describe, expect, it } from 'vitest'
import { parseCliArgs, splitUrls } from '../../src/cli/args.js'

const common = { rpc: [], config: undefined, chainId: undefined, json: false, timeout: undefined }

describe('CLI arguments', () => {
  it.each([
    [['health'], { ...common, command: 'health', minHealthy: 1 }],
    [['health', '--rpc', 'http://a,http://b', '--rpc', 'http://c', '--min-healthy', '2', '--json', '-t', '3000'], { command: 'health', rpc: ['http://a', 'http://b', 'http://c'], minHealthy: 2, json: true, timeout: 3000 }],
    [['call', 'eth_blockNumber'], { ...common, command: 'call', method: 'eth_blockNumber', params: [] }],
    [['call', 'eth_getBalance', '["0x0000000000000000000000000000000000000001","latest"]', '--config', 'rpc.json'], { command: 'call', params: ['0x0000000000000000000000000000000000000001', 'latest'], config: 'rpc.json' }],
    [['read', '--address', '0xA', '--abi', 'abi.json', '--fn', 'balanceOf', '0xB', '--confirmations', '12'], { command: 'read', address: '0xA', abi: 'abi.json', fn: 'balanceOf', args: ['0xB'], confirmations: 12, block: undefined }],
    [['read', '-a', '0xA', '--abi', 'f(int256) returns (int256)', '--', '-5'], { command: 'read', args: ['-5'], fn: undefined }],
    [['read', '-a', '0xA', '--abi', 'x.json', '--block', 'finalized'], { command: 'read', block: 'finalized', confirmations: undefined }],
    [['read', '-a', '0xA', '--abi', 'f(int256)', '--timeout', '2500', '--', '--confirmations', '-5'], { command: 'read', args: ['--confirmations', '-5'], confirmations: undefined, timeout: 2500 }],
    [['read', '-a', '0xA', '--abi', 'f(int256,int256)', '-5', '--json', '-0.5'], { command: 'read', args: ['-5', '-0.5'], json: true }],
    [['read', '-a', '0xA', '--abi', 'f(int256)', '--block', '-1', '-7'], { command: 'read', args: ['-7'], block: '-1' }],
    [['read', '-a', '0xA', '--abi', 'f(int256)', '-5', '--', '-6', '--json'], { command: 'read', args: ['-5', '-6', '--json'], json: false }],
    [['--help'], { command: 'help', topic: undefined }],
    [['help', 'read'], { command: 'help', topic: 'read' }],
    [['call', '-h'], { command: 'help', topic: 'call' }],
    [['-v'], { command: 'version' }],
    [['health', '--chain-id', '137'], { command: 'health', chainId: 137n }],
    [['call', 'eth_chainId', '--chain-id', '0x89'], { command: 'call', chainId: 137n }],
  ])('%j', (argv, expected) => {
    expect(parseCliArgs(argv)).toMatchObject(expected)
  })

  it.each([
    [[], 'missing command: health, call or read'],
    [['status'], 'unknown command "status": expected health, call or read'],
    [['health', '--frobnicate'], "Unknown option '--frobnicate'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--frobnicate\""],
    [['health', 'now'], 'health takes no arguments, got "now"'],
    [['health', '--min-healthy', 'two'], 'Invalid option `--min-healthy`: expected an integer >= 0, got two'],
    [['health', '--min-healthy', '-1'], 'Invalid option `--min-healthy`: expected an integer >= 0, got -1'],
    [['call'], 'call needs a METHOD, e.g. `call eth_blockNumber`'],
    [['call', 'eth_call', '{"to":"0x1"}'], "PARAMS must be a JSON array, e.g. '[\"latest\", false]', got object"],
    [['call', 'eth_call', '[oops'], /^PARAMS must be a JSON array, e\.g\. '\["latest", false\]': /],
    [['call', 'eth_call', '[]', 'extra'], 'call takes METHOD and one PARAMS-JSON array; quote the JSON'],
    [['call', 'eth_chainId', '--timeout', '0'], 'Invalid option `--timeout`: expected a duration in ms > 0 and <= 2147483647, got 0'],
    [['call', 'eth_chainId', '--timeout', '-5'], 'Invalid option `--timeout`: expected a duration in ms > 0 and <= 2147483647, got -5'],
    [['call', 'eth_chainId', '-t', '-5'], 'Invalid option `--timeout`: expected a duration in ms > 0 and <= 2147483647, got -5'],
    [['call', 'eth_chainId', '--timeout', 'soon'], 'Invalid option `--timeout`: expected a duration in ms > 0 and <= 2147483647, got soon'],
    [['call', 'eth_chainId', '--timeout', '5s'], '--timeout takes milliseconds without a unit: for 5s, write 5000'],
    [['call', 'eth_chainId', '--timeout', '1.5m'], '--timeout takes milliseconds without a unit: for 1.5m, write 90000'],
    [['call', 'eth_chainId', '-t'], '--timeout needs a value'],
    [['health', '--min-healthy', '--json'], '--min-healthy needs a value'],
    [['health', '--min-healthy', '-x'], 'Invalid option `--min-healthy`: expected an integer >= 0, got -x'],
    [['read', '-a', '0x1', '--abi', 'x', '--confirmations', 'many'], 'Invalid option `--confirmations`: expected an integer >= 0, got many'],
    [['call', 'eth_chainId', '--timeout', '3e9'], 'Invalid option `--timeout`: expected a duration in ms > 0 and <= 2147483647, got 3e9'],
    [['call', 'eth_chainId', '--timeout', '99999999999'], 'Invalid option `--timeout`: expected a duration in ms > 0 and <= 2147483647, got 99999999999'],
    [['read', '-a', '0x1', '--abi', 'x', '--confirmations', '-2'], 'Invalid option `--confirmations`: expected an integer >= 0, got -2'],
    [['call', 'eth_chainId', '--address', '0x1'], '--address does not apply to call'],
    [['health', '--chain-id', '-5'], 'Invalid option `--chain-id`: expected an integer > 0, got -5'],
    [['health', '--chain-id', '0'], 'Invalid option `--chain-id`: expected an integer > 0, got 0'],
    [['health', '--chain-id', 'mainnet'], 'Invalid option `--chain-id`: expected an integer > 0, got mainnet'],
    [['health', '--confirmations', '3'], '--confirmations does not apply to health'],
    [['read', '--abi', 'x.json'], 'read needs --address'],
    [['read', '--address', '0x1'], 'read needs --abi (a JSON ABI file or a signature like "function value() view returns (uint256)")'],
    [['read', '-a', '0x1', '--abi', 'x', '--block', '5', '--confirmations', '2'], 'give --confirmations or --block, not both'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message)
    try {
      parseCliArgs(argv)
    } catch (error) {
      expect((error as Error).name).toBe('UsageError')
    }
  })

  it('splits comma-separated URLs and drops blanks', () => {
    expect(splitUrls(['http://a, http://b,', ' ', 'http://c'])).toEqual(['http://a', 'http://b', 'http://c'])
  })
})
