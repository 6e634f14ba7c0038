// Small pieces every page uses: labelled fields, a problem notice, an allow/deny badge.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { ApiError } from '../api.ts';
import { instantOf, localOf } from '../format.ts';

interface InputProps {
  type?: 'text' | 'search' | 'datetime-local' | 'number' | 'password';
  step?: number;
  placeholder?: string;
  required?: boolean;
}

/** A text (or date, or number) field with its visible label; Enter submits the form around it. */
export function Field({
  label,
  value,
  onValue,
  type = 'text',
  ...rest
}: { label: string; value: string; onValue: (value: string) => void } & InputProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {/* Preact types an input's props by a literal type; this one is chosen at run time. */}
      <input
        id={id}
        type={type as 'text'}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
        {...rest}
      />
    </div>
  );
}

/** A date and time field (the viewer's zone, to the second) holding an ISO instant; empty is undefined. */
export function TimeField({
  label,
  value,
  onValue,
}: {
  label: string;
  value: string | undefined;
  onValue: (instant: string | undefined) => void;
}) {
  return (
    <Field label={label} type="datetime-local" step={1} value={localOf(value)} onValue={(v) => onValue(instantOf(v))} />
  );
}

export function Choice({
  label,
  value,
  onValue,
  options,
}: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  options: ReadonlyArray<readonly [value: string, text: string]>;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onValue(event.currentTarget.value)}>
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Problem({ error }: { error: ApiError | null }) {
  if (error === null) return null;
  return (
    <p class="problem" role="alert">
      {error.plain}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Verdict({ allow }: { allow: boolean | null }) {
  if (allow === null) return <span class="verdict list">list</span>;
  return <span class={allow ? 'verdict allowed' : 'verdict denied'}>{allow ? 'allowed' : 'denied'}</span>;
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
