// `resilient-rpc/viem`: the pool as a viem transport. viem is an optional peer dependency: only this
// entry imports it, and it reaches the core by the package's own name, so the errors and brands it
// meets are the root entry's.
export { resilientTransport } from './transport.js'
export type { ResilientTransport, ResilientTransportOptions, ResilientTransportValue } from './transport.js'
export { ResilientRpcRequestError, toViemError } from './errors.js'
