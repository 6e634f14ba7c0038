// A record before and after a change, as a small table of fields: each field's before and after,
// and what happened to it written out (added, removed, changed), so it never rests on colour alone.
import { countChanges, diffRecords, type FieldChange, type FieldRow, fieldText } from '../record-changes.ts';

export interface RecordDiffProps {
  before: unknown;
  after: unknown;
  /** Names the table for assistive technology, e.g. "Before and after: allocation sam/globex". */
  label: string;
  /** Show fields that kept their value too (an update otherwise lists only what it changed). */
  showUnchanged?: boolean;
}

export function RecordDiff({ before, after, label, showUnchanged = false }: RecordDiffProps) {
  const rows = diffRecords(before, after);
  const counts = countChanges(rows);
  const shown = showUnchanged ? rows : rows.filter((row) => row.change !== 'unchanged');
  if (rows.length === 0) return <p class="diff-summary">No fields on either side.</p>;
  return (
    <div class="record-diff">
      <p class="diff-summary">{summary(counts)}</p>
      {shown.length === 0 ? null : (
        <table class="diff stack" aria-label={label}>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={row.path} class={`field-${row.change}`}>
                <th scope="row" data-label="Field">
                  <code>{row.path}</code>
                </th>
                <td data-label="Before" class={row.change === 'unchanged' || row.change === 'added' ? '' : 'removed'}>
                  <Value row={row} side="before" />
                </td>
                <td data-label="After" class={row.change === 'unchanged' || row.change === 'removed' ? '' : 'added'}>
                  <Value row={row} side="after" />
                </td>
                <td data-label="Change" class="diff-mark">
                  {row.change}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Value({ row, side }: { row: FieldRow; side: 'before' | 'after' }) {
  const value = row[side];
  if (value === undefined) return <span class="diff-absent">(none)</span>;
  // Values that are not text (null, numbers, true, lists) in code, so "null" the string and null differ.
  if (typeof value === 'string' && value !== '') return value;
  return <code>{fieldText(value)}</code>;
}

function summary(counts: Record<FieldChange, number>): string {
  const parts = (['changed', 'added', 'removed'] as const)
    .filter((kind) => counts[kind] > 0)
    .map((kind) => `${counts[kind]} ${counts[kind] === 1 ? 'field' : 'fields'} ${kind}`);
  if (counts.unchanged > 0) parts.push(`${counts.unchanged} unchanged`);
  return parts.length === 0 ? 'No fields.' : `${parts.join(', ')}.`;
}
