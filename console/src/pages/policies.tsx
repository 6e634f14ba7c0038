// Policies: not built yet.
import type { PageProps } from '../main.tsx';

export function PoliciesPage(_props: PageProps) {
  return <h1>Policies</h1>;
}
