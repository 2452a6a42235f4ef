/**
 * A value as text for an error message, without ever throwing: the value is often the very input
 * being rejected, and `${value}` or `JSON.stringify` throw for null-prototype objects, symbols in
 * templates, bigints and cycles — turning a typed INVALID_OPTION into a bare TypeError.
 */
export function show(value: unknown): string {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** Like `JSON.stringify` for a message (strings quoted), falling back to `show` where it would throw. */
export function showJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? show(value)
  } catch {
    return show(value)
  }
}
