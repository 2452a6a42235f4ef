/**
 * What an endpoint's refusal means, whoever sent it and in whatever words: each provider and node
 * implementation words the same situation its own way (test/fixtures/providerAnswers.ts holds them).
 */
export type Situation =
  /** Too many requests for now: throttled by the provider or a gateway. */
  | 'rate-limit'
  /** The plan's daily or monthly capacity is used up (HTTP 402, "Monthly capacity limit exceeded"). */
  | 'quota-exhausted'
  /** An `eth_getLogs` (or trace) block range wider than the endpoint serves. */
  | 'range-too-large'
  /** A query matching more results, or a response larger, than the endpoint returns. */
  | 'result-too-large'
  /** The request body is larger than the endpoint reads. */
  | 'payload-too-large'
  /** A JSON-RPC batch longer, or answering more, than the endpoint takes. */
  | 'batch-too-large'
  /** The endpoint does not have the block the request names: not yet, as a rule (it is behind). */
  | 'missing-block'
  /** The endpoint lacks other data another may have: pruned state or history, an unfinished index, a sync in progress. */
  | 'missing-data'
  /** The endpoint does not serve this method (disabled, not implemented, not in the plan). */
  | 'method-unsupported'
  /** The call ran and reverted (or ran out of gas): every endpoint says the same. */
  | 'revert'
  /** The request can never succeed as sent: malformed params, a transaction no block can hold. */
  | 'invalid-params'
  /** The node already has these transaction bytes. */
  | 'already-known'
  /** The transaction's nonce is used: by this very transaction (mined) or by another. */
  | 'nonce-too-low'
  /** The transaction pays less than this node's pool takes: another node's may. */
  | 'underpriced'
  /** A replacement pays too little over the transaction it would replace. */
  | 'replacement-underpriced'
  /** The sender cannot pay for the transaction. */
  | 'insufficient-funds'
  /** This node's transaction pool has no room: another node's may. */
  | 'txpool-full'
  /** The endpoint's own trouble (a timeout, an overload, an internal error, a bad gateway): a moment later, or another endpoint, may answer. */
  | 'transient'
  /** The endpoint refuses the credentials (HTTP 401/403). */
  | 'unauthorized'
