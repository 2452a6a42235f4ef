// anvil's dev accounts (its default mnemonic): each starts with 10,000 ETH, and anvil signs for them,
// so set-up transactions sent with eth_sendTransaction need no key.

/** Account 0: deploys the fixture contracts and owns them. */
export const DEV_ACCOUNT = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
/** Account 0's key, for transactions signed here. */
export const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
/** Account 1's key: a sender whose nonces account 0's set-up transactions leave alone. */
export const SECOND_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
