/** Chain id every bench endpoint reports (anvil's default). */
export const CHAIN_ID = 31337

/** The contract every `eth_call` goes to. On anvil it is given CALL_CODE with `anvil_setCode`. */
export const CALL_TO: `0x${string}` = '0x00000000000000000000000000000000000be7c4'

/** `balanceOf(0x…01)`: what a dapp's most common read looks like on the wire. */
export const CALL_DATA: `0x${string}` = `0x70a08231${'0'.repeat(63)}1`

/** What the call returns: 42 as one ABI word. The instant server answers this too. */
export const CALL_RESULT = `0x${'0'.repeat(62)}2a`

/** Runtime code that returns 42 whatever the input: PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN. */
export const CALL_CODE = '0x602a60005260206000f3'

export const CALL_PARAMS = [{ to: CALL_TO, data: CALL_DATA }, 'latest'] as const
