// A JSON value as a tree a person can read and fold (details elements, so the keyboard opens and
// closes them): objects and arrays as nested lists, every key and value as text. Places named in `marked` (JSON pointers, e.g. /input/account/name, what the
// log policy removed or replaced) carry a visible "masked" note.
import type { ComponentChildren } from 'preact';

export interface JsonTreeProps {
  value: unknown;
  /** The pointer of `value` itself, e.g. "/input". */
  at?: string;
  /** JSON pointers to mark, with what to say there. */
  marked?: ReadonlyMap<string, string>;
  label: string;
}

const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

export function JsonTree({ value, at = '', marked = new Map(), label }: JsonTreeProps) {
  return (
    <section class="json-tree" aria-label={label}>
      <Node value={value} at={at} marked={marked} depth={0} />
    </section>
  );
}

function Mark({ at, marked }: { at: string; marked: ReadonlyMap<string, string> }) {
  const note = marked.get(at);
  return note === undefined ? null : <span class="masked-note">{note}</span>;
}

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span class="json-null">null</span>;
  if (typeof value === 'string') return <span class="json-string">"{value}"</span>;
  if (typeof value === 'number') return <span class="json-number">{String(value)}</span>;
  if (typeof value === 'boolean') return <span class="json-boolean">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Node({
  value,
  at,
  marked,
  depth,
}: {
  value: unknown;
  at: string;
  marked: ReadonlyMap<string, string>;
  depth: number;
}): preact.JSX.Element {
  if (value === null || typeof value !== 'object') return <Scalar value={value} />;
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [String(index), item])
    : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span class="json-empty">{Array.isArray(value) ? '[]' : '{}'}</span>;
  return (
    <ul>
      {entries.map(([key, child]) => {
        const path = `${at}/${escapePointer(key)}`;
        const nested = child !== null && typeof child === 'object' && Object.keys(child).length > 0;
        const name: ComponentChildren = (
          <>
            <span class="json-key">{Array.isArray(value) ? `[${key}]` : key}</span>
            <Mark at={path} marked={marked} />
          </>
        );
        return (
          <li key={key}>
            {nested ? (
              <details open={depth < 3}>
                <summary>
                  {name}
                  <span class="json-count">
                    {Array.isArray(child) ? ` [${child.length}]` : ` {${Object.keys(child as object).length}}`}
                  </span>
                </summary>
                <Node value={child} at={path} marked={marked} depth={depth + 1} />
              </details>
            ) : (
              <>
                {name}: <Node value={child} at={path} marked={marked} depth={depth + 1} />
              </>
            )}
          </li>
        );
      })}
    </ul>
  );
}
