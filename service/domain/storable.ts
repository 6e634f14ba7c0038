// PostgreSQL cannot store U+0000 (NUL) in text or jsonb, nor an unpaired UTF-16 surrogate in jsonb,
// yet a caller may send either inside a decision's attributes (keys and values alike), as JSON
// escapes. What goes to the decision log is made storable: each such character becomes its escape
// as visible text (the six characters \u0000, \ud800), and every place where that happened is
// named (a JSON pointer into the entry, with the escape applied), so the entry says it was changed.

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what PostgreSQL refuses and this finds
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const EVERY_UNSTORABLE = new RegExp(UNSTORABLE.source, 'g');
/** How JSON.stringify writes them: \u0000, or \udXXX for a surrogate on its own (a pair is written as is). */
const ESCAPED_IN_JSON = /\\u(0000|d[89a-f])/i;

const visible = (text: string) =>
  text.replace(EVERY_UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** RFC 6901: "~" → "~0", "/" → "~1". */
const pointerSegment = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** Text as stored; pointer is pushed onto escaped when it held something unstorable. */
export function storableText(text: string, pointer: string, escaped: string[]): string {
  if (!UNSTORABLE.test(text)) return text;
  escaped.push(pointer);
  return visible(text);
}

/** The value with every string and key made storable; the pointers of what changed pushed onto escaped. */
function storableValue(value: unknown, pointer: string, escaped: string[]): unknown {
  if (typeof value === 'string') return storableText(value, pointer, escaped);
  if (Array.isArray(value)) return value.map((inner, i) => storableValue(inner, `${pointer}/${i}`, escaped));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const name = visible(key);
    const at = `${pointer}/${pointerSegment(name)}`;
    if (name !== key) escaped.push(at);
    out[name] = storableValue(inner, at, escaped);
  }
  return out;
}

/** The value as JSON text a jsonb column takes; pointer names the value in the entry. */
export function storableJson(value: unknown, pointer: string, escaped: string[]): string {
  return storableJsonText(JSON.stringify(value) ?? 'null', value, pointer, escaped);
}

/** storableJson for a value already encoded: text is JSON.stringify(value). */
export function storableJsonText(text: string, value: unknown, pointer: string, escaped: string[]): string {
  // The cheap test lets through text with no such escape; the walk tells a real NUL or lone
  // surrogate from a caller's literal backslash-u text (which JSON.stringify writes \\u…).
  if (!ESCAPED_IN_JSON.test(text)) return text;
  const before = escaped.length;
  const clean = storableValue(value, pointer, escaped);
  return escaped.length === before ? text : JSON.stringify(clean);
}
