// Measures a request body's JSON structure before JSON.parse sees it. Parsing and
// re-serialising a value costs time in proportion to its structure, not its bytes: an 8 MB
// body nested 4 million levels deep held the event loop for 26 s, one of 2.6 million empty
// arrays for 1.3 s, while an 8 MB string (what the SDK sends: values are base64 text) parses
// in milliseconds. So a body is refused past a nesting depth or a count of structural
// elements, both far above anything the protocol needs, in one pass that skips over strings
// with a native search.

export interface JsonShapeLimits {
  /** Deepest nesting of arrays and objects, the envelope's own levels included. */
  maxDepth: number;
  /** Most structural characters (`[`, `{`, `,`, `:`) outside strings. */
  maxElements: number;
}

export type JsonShape = { ok: true } | { ok: false; reason: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Index of the quote that closes the string whose opening quote is at `open`, or -1. */
function closingQuote(bytes: Uint8Array, open: number): number {
  let quote = bytes.indexOf(QUOTE, open + 1);
  while (quote !== -1) {
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    // An even run of backslashes escapes itself, not the quote.
    if (backslashes % 2 === 0) return quote;
    quote = bytes.indexOf(QUOTE, quote + 1);
  }
  return -1;
}

/**
 * Checks depth and element count only; whether the text is JSON at all is JSON.parse's to
 * say, so an unterminated string or an unbalanced bracket is left for it to refuse.
 */
export function checkJsonShape(bytes: Uint8Array, limits: JsonShapeLimits): JsonShape {
  let depth = 0;
  let elements = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      const close = closingQuote(bytes, i);
      if (close === -1) return { ok: true };
      i = close;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++;
      elements++;
      if (depth > limits.maxDepth) {
        return {
          ok: false,
          reason: `request body nests arrays and objects deeper than ${limits.maxDepth} levels: send values as strings (the SDK sends them base64-encoded)`,
        };
      }
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    } else if (byte === COMMA || byte === COLON) {
      elements++;
    }
    if (elements > limits.maxElements) {
      return {
        ok: false,
        reason: `request body has more than ${limits.maxElements} JSON elements: send values as strings (the SDK sends them base64-encoded)`,
      };
    }
  }
  return { ok: true };
}
