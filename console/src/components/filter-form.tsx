// The filter form of a list page: the filters live in the URL (so a view can be bookmarked), the
// form edits a draft of them, and Enter (or Apply filters) puts the draft in the URL.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { navigate } from '../route.ts';
import { Field, TimeField } from './ui.tsx';

export type Filters<N extends string> = Partial<Record<N, string>>;

/** The filters named in the URL's query, empty ones left out. */
export function filtersOf<N extends string>(names: readonly N[], query: URLSearchParams): Filters<N> {
  const filters: Filters<N> = {};
  for (const name of names) {
    const value = query.get(name);
    if (value !== null && value !== '') filters[name] = value;
  }
  return filters;
}

export interface FilterDraft<N extends string> {
  draft: Filters<N>;
  set: (name: N, value: string | undefined) => void;
  /** Puts these filters in the URL at once (a select that applies as it changes). */
  apply: (filters: Filters<N>) => void;
  /** A text field for a filter. */
  text: (name: N, label: string) => ComponentChildren;
  /** A date and time field for a filter holding an instant (since, until). */
  time: (name: N, label: string) => ComponentChildren;
}

export function FilterForm<N extends string>({
  page,
  filters,
  children,
}: {
  page: string;
  filters: Filters<N>;
  children: (form: FilterDraft<N>) => ComponentChildren;
}) {
  const [draft, setDraft] = useState<Filters<N>>(filters);
  const key = JSON.stringify(filters);
  // Dependencies: the filters in the URL are the truth; a new URL resets the form.
  useEffect(() => setDraft(filters), [key]);
  const set = (name: N, value: string | undefined) => setDraft((previous) => ({ ...previous, [name]: value }));
  const apply = (next: Filters<N>) => navigate([page], next);
  const form: FilterDraft<N> = {
    draft,
    set,
    apply,
    text: (name, label) => <Field label={label} value={draft[name] ?? ''} onValue={(value) => set(name, value)} />,
    time: (name, label) => <TimeField label={label} value={draft[name]} onValue={(value) => set(name, value)} />,
  };
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(event) => {
        event.preventDefault();
        apply(draft);
      }}
    >
      {children(form)}
      <div class="actions">
        <button type="submit">Apply filters</button>
        <button type="button" onClick={() => apply({})}>
          Clear filters
        </button>
      </div>
    </form>
  );
}
