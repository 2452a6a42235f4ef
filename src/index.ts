// The public surface, by name. Nothing is exported from anywhere else.
export { createPool } from './pool/pool.js'
export type { Pool, RequestOptions, ReadyOptions } from './pool/pool.js'
export type { PoolStats, EndpointStats } from './pool/stats.js'
export type { PoolOptions, EndpointConfig, PoolWebSocketOptions } from './pool/options.js'
export type { PoolEvents } from './pool/events.js'
export type {
  BlockHeader,
  HeadsReorg,
  SubscriptionGap,
  LogFilter,
  RpcLog,
  SubscribeOptions,
  HeadsSubscribeOptions,
  LogsSubscribeOptions,
  SubscriptionSource,
} from './subscriptions/subscription.js'
export type { Logger, LogFn, LogRateLimit } from './observability/logger.js'
export { createPrometheusMetrics, DEFAULT_RPC_BUCKETS } from './metrics/prometheus.js'
export type { PrometheusMetrics, PrometheusMetricsOptions, PromClient, PromRegistry, MetricsSource } from './metrics/prometheus.js'
export type { Strategy, Tier, BreakerState, EndpointStatus, EndpointHealth } from './balancer/select.js'
export type { HeartbeatOptions } from './health/heartbeat.js'
export type { BackoffOptions } from './policy/backoff.js'
export type { BreakerOptions } from './policy/breaker.js'
export type { Clock, TimerHandle } from './util/clock.js'
export { pickLeastConnections } from './balancer/leastConnections.js'
export type { LeastConnectionsCandidate, LeastConnectionsPick } from './balancer/leastConnections.js'
export { pickWeighted } from './balancer/weighted.js'
export type { WeightedCandidate, WeightedPick } from './balancer/weighted.js'
export { backoffDelay } from './policy/backoff.js'
export { classifyError } from './errors/classify.js'
export type { ErrorClass, EndpointVerdict, ClassifyContext } from './errors/classify.js'
export {
  ResilientRpcError,
  isResilientRpcError,
  TimeoutError,
  AbortedError,
  CircuitOpenError,
  NoHealthyEndpointError,
  PoolDestroyedError,
  NetworkError,
  HttpError,
  UnauthorizedError,
  RateLimitedError,
  InvalidResponseError,
  RpcResponseError,
  RetriesExhaustedError,
  InvalidOptionError,
  ChainMismatchError,
  EndpointLaggingError,
  NotReadyError,
  InvalidAbiError,
  ContractRevertError,
  ConfirmationTimeoutError,
  TransactionRejectedError,
  HandlerError,
  RetryBudgetExhaustedError,
  QueueFullError,
  QuorumError,
} from './errors/errors.js'
export type { ErrorCode, ErrorByCode, Attempt, EndpointExclusion, DecodedRevert, TransactionState, QuorumAnswer } from './errors/errors.js'
export type { RateLimitOptions, RateBudget } from './policy/rateLimit.js'
export type { RetryBudgetOptions, RetryBudgetStats } from './policy/retryBudget.js'
export { createContract } from './contract/contract.js'
export type { Contract, ReadOptions } from './contract/contract.js'
export { resolveBlock } from './contract/blockTag.js'
export type { BlockOptions } from './contract/blockTag.js'
export { decodeRevert } from './contract/revert.js'
export { waitForTransaction } from './tx/waitForTransaction.js'
export type { WaitForTransactionOptions, TransactionReceipt } from './tx/waitForTransaction.js'
export { sendRawTransaction } from './tx/sendRawTransaction.js'
export { createOutbox, createMemoryOutboxStorage } from './tx/outbox.js'
export type { Outbox, OutboxOptions, OutboxSendOptions, OutboxHandle, OutboxState, OutboxStatus, FinalOutboxState, OutboxEntry, OutboxStorage, OutboxEvents, OutboxStateEvent } from './tx/outbox.js'
export { createEip1193Provider } from './adapters/eip1193.js'
export type { Eip1193Provider, Eip1193ProviderOptions, Eip1193RequestArguments, Eip1193Events } from './adapters/eip1193.js'
export { ProviderRpcError, PROVIDER_ERROR_CODES } from './adapters/providerRpcError.js'
export { createEthersProvider } from './adapters/ethers.js'
export type { EthersProviderOptions } from './adapters/ethers.js'
export type { FilterOptions } from './filters/filters.js'
export type { SendRawTransactionOptions } from './tx/sendRawTransaction.js'
export { watchEvents } from './events/watchEvents.js'
export type { WatchEventsOptions, WatchContext, EventHandler, EventWatcher } from './events/watchEvents.js'
export type { WatchedEvent, TopicFilter } from './events/decoder.js'
// Types the options and events above refer to, named so that the API reference (typedoc) can show them.
export type { HedgeOptions } from './policy/hedge.js'
export type { CacheOptions } from './pool/cache.js'
export type { BatchOptions } from './transport/batch.js'
export type { WsTransportOptions, WsKeepaliveOptions, WsReconnectOptions, WsHandshake, WebSocketConstructor, WebSocketLike, WebSocketEventLike } from './transport/wsOptions.js'
export type { BlockRef } from './subscriptions/subscription.js'
export type { ResolveBlockCallOptions } from './contract/blockTag.js'
export type { ResilientRpcErrorOptions } from './errors/errors.js'
