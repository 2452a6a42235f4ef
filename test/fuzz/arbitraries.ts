import fc from 'fast-check'

// What a broken, hostile or confused endpoint may answer. Shared by the HTTP and WebSocket fuzz tests.

/** A number JSON can carry but JavaScript cannot hold exactly, or cannot hold at all. */
const hugeNumberText = fc.oneof(
  fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '0.0000000000000000000000001', '1e-400', '-0'),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 256n }).map(String),
)

/** JSON text with junk nested at any depth; `id` is the id the answer should carry, if it is to be right. */
function envelopeText(id: number | string | undefined): fc.Arbitrary<string> {
  const ids = fc.oneof(
    fc.constant(id),
    fc.integer(),
    fc.string({ maxLength: 8 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 2 }),
  )
  const result = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom('0x1', '0x', '0xzz', '', '0x' + 'f'.repeat(70)),
    fc.constant(undefined),
  )
  const error = fc.oneof(
    fc.constant(undefined),
    fc.record({ code: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)), message: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)), data: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) }, { requiredKeys: [] }),
    fc.jsonValue({ maxDepth: 2 }),
  )
  const envelope = fc
    .record({
      jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('1.0'), fc.constant(undefined), fc.jsonValue({ maxDepth: 1 })),
      id: ids,
      result,
      error,
      extra: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), { nil: undefined }),
    })
    .map(({ extra, ...rest }) => JSON.stringify({ ...extra, ...rest }))
  // A huge number as the raw result or id text: JSON.stringify cannot write one, so it is spliced in.
  const huge = fc.tuple(hugeNumberText, fc.boolean()).map(([n, asId]) => (asId ? `{"jsonrpc":"2.0","id":${n},"result":"0x1"}` : `{"jsonrpc":"2.0","id":${JSON.stringify(id ?? 1)},"result":${n}}`))
  return fc.oneof(envelope, huge)
}

/** A response body, as bytes. */
export function bodyArb(id: number | string | undefined): fc.Arbitrary<Uint8Array> {
  const text = fc.oneof(
    envelopeText(id),
    // Valid JSON of the wrong shape.
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    // A batch answer to a single request, with junk in it.
    fc.array(envelopeText(id), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    // Truncated JSON.
    fc.tuple(envelopeText(id), fc.nat()).map(([t, cut]) => t.slice(0, cut % Math.max(1, t.length))),
    fc.string({ maxLength: 200 }),
    fc.constantFrom('', ' ', 'null', '<html>502 Bad Gateway</html>', '\uFEFF{"jsonrpc":"2.0","id":1,"result":"0x1"}', '{"__proto__":{"result":1}}'),
  )
  return fc.oneof(
    { arbitrary: text.map((t) => new TextEncoder().encode(t)), weight: 5 },
    // Random bytes: invalid UTF-8 included.
    { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 },
  )
}

/** Header values that a real server could send (visible ASCII and spaces), including lies. */
export const headersArb: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'retry-after': fc.oneof(
      fc.integer({ min: -10, max: 10_000_000 }).map(String),
      fc.constantFrom('Wed, 21 Oct 2015 07:28:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', 'soon', '1.5', '', ' 3 ', 'NaN', 'Infinity', '1e308', '0x10'),
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
    ),
    'content-type': fc.constantFrom('application/json', 'text/html', 'application/octet-stream', 'application/json; charset=utf-16'),
    'content-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'x-gzip', 'identity', 'compress', 'gzip, br', 'junk'),
  },
  { requiredKeys: [] },
)

/** HTTP status codes a server may send with a final response. */
export const statusArb = fc.oneof({ arbitrary: fc.constantFrom(200, 200, 400, 401, 403, 404, 408, 413, 429, 500, 502, 503, 504), weight: 3 }, { arbitrary: fc.integer({ min: 200, max: 599 }), weight: 2 })
