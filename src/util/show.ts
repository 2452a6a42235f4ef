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

// C0 controls, DEL and C1 controls; line and paragraph separators; bidirectional overrides and
// isolates, which reorder what a terminal shows (the "Trojan Source" characters).
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * Text from elsewhere (a node's error message, a contract's revert reason) made safe to print on
 * one line: control and direction characters escaped as `\n`, `\t`, `\x00`, `\u202e`. Everything
 * else, backslashes included, is left as it is: this is for reading, not for parsing back.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
}
