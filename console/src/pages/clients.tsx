// Clients: not built yet.
import type { PageProps } from '../main.tsx';

export function ClientsPage(_props: PageProps) {
  return <h1>Clients</h1>;
}
