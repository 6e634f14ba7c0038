// Access changes: not built yet.
import type { PageProps } from '../main.tsx';

export function AccessChangesPage(_props: PageProps) {
  return <h1>Access changes</h1>;
}
