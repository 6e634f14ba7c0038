// Overview: not built yet.
import type { PageProps } from '../main.tsx';

export function OverviewPage(_props: PageProps) {
  return <h1>Overview</h1>;
}
