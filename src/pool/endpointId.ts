const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' }

/**
 * The only way an endpoint is ever shown: its `name`, else `scheme://host:port#index`. Never its path,
 * query, userinfo or headers — that is where API keys live.
 */
export function endpointId(url: URL, index: number, name?: string): string {
  if (name !== undefined) return name
  const port = url.port || DEFAULT_PORTS[url.protocol] || ''
  return `${url.protocol}//${url.hostname}${port ? `:${port}` : ''}#${index}`
}
