/** Sends one JSON-RPC call to one endpoint: what the pool asks of every transport (HTTP, batched HTTP, WebSocket). */
export type Transport = {
  /** `paramsJson`, when given, is `params` already serialised (the pool serialises once per request). */
  request(method: string, params: readonly unknown[], options: { signal: AbortSignal; paramsJson?: string }): Promise<unknown>
  /** Closes the transport's connections. Idempotent. */
  destroy?(): void
}
