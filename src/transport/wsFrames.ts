// Reading a WebSocket frame's payload before it is parsed as JSON-RPC.

/** A lower bound of a frame's size in bytes (exact for binary frames): a string's length never exceeds its UTF-8 byte count. */
export function frameSize(data: unknown): number {
  if (typeof data === 'string') return data.length
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  return 0
}

/** The text of a frame: a string, or UTF-8 bytes (some nodes send JSON in binary frames); `undefined` for anything else. */
export function frameText(data: unknown): string | undefined {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(data as ArrayBuffer)
    } catch {
      return undefined
    }
  }
  return undefined
}
