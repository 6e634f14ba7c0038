// How a revision's standing reads: "active", "shadow" as words in badges (never colour alone).

export function StateMarks({
  revision,
  previous = false,
}: {
  revision: { active: boolean; shadow: boolean };
  /** The revision a rollback would go back to. */
  previous?: boolean;
}) {
  if (!revision.active && !revision.shadow && !previous) return <span class="muted">stored, inactive</span>;
  return (
    <span class="marks">
      {revision.active ? <span class="mark-badge active">active</span> : null}
      {revision.shadow ? <span class="mark-badge shadow">shadow</span> : null}
      {previous ? <span class="mark-badge previous">previous (a rollback returns to it)</span> : null}
    </span>
  );
}

export function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
