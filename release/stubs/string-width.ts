// string-width for the single file: plain printable ASCII is measured by its length, and
// only other text loads the real package. Its module builds an Intl.Segmenter and Unicode
// property regexes when loaded (about 15 ms), and yargs measures its help text on every
// command, so the real one would cost every `modulate` invocation that much for ASCII.
type Measure = (text: string, options?: object) => number;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
let measure: Measure | undefined;

export default function stringWidth(text: string, options?: object): number {
  if (typeof text === "string" && PRINTABLE_ASCII.test(text)) return text.length;
  // A require() of a bundled ES module: esbuild evaluates it here, on the first call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  measure ??= (require("string-width-eager") as { default: Measure }).default;
  return measure(text, options);
}
