// The operator console: sign in with a token, then the pages that token's scopes allow. Every datum
// comes from the public /v1 API; the page only arranges it (as text, never as HTML).
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, client, ok, type Schemas, type Scope } from './api.ts';
import { Loading, Problem } from './components/ui.tsx';
import { AccessChangesPage } from './pages/access-changes.tsx';
import { ClientsPage } from './pages/clients.tsx';
import { DecisionPage } from './pages/decision.tsx';
import { DecisionsPage } from './pages/decisions.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PoliciesPage } from './pages/policies.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { href, type Route, useRoute } from './route.ts';
import { forgetToken, keepToken, storedToken } from './session.ts';
import { useLoad } from './use-load.ts';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

export interface PageProps {
  route: Route;
  self: Schemas['TokenSelf'];
}

interface Page {
  path: string;
  title: string;
  /** Every scope the page's calls need. */
  needs: readonly Scope[];
  view: (props: PageProps) => preact.JSX.Element;
}

const PAGES: readonly Page[] = [
  { path: 'overview', title: 'Overview', needs: ['logs'], view: OverviewPage },
  {
    path: 'decisions',
    title: 'Decisions',
    needs: ['logs'],
    view: (props) => (props.route.parts[1] === undefined ? <DecisionsPage {...props} /> : <DecisionPage {...props} />),
  },
  { path: 'changes', title: 'Access changes', needs: ['logs'], view: AccessChangesPage },
  { path: 'policies', title: 'Policies', needs: ['policy'], view: PoliciesPage },
  { path: 'clients', title: 'Clients', needs: ['admin', 'decide'], view: ClientsPage },
];

const allowed = (page: Page, scopes: readonly Scope[]) => page.needs.every((scope) => scopes.includes(scope));

function App() {
  const [token, setToken] = useState(storedToken);
  const signOut = () => {
    forgetToken();
    setToken(null);
  };
  if (token === null) {
    return (
      <SignInPage
        onToken={(value) => {
          keepToken(value);
          setToken(value);
        }}
      />
    );
  }
  return (
    <SignedIn
      token={token}
      onSignOut={signOut}
      onToken={(value) => {
        keepToken(value);
        setToken(value);
      }}
    />
  );
}

function SignedIn({
  token,
  onSignOut,
  onToken,
}: {
  token: string;
  onSignOut: () => void;
  onToken: (token: string) => void;
}) {
  const self = useLoad(() => ok(client.GET('/v1/tokens/self')), [token]);
  const route = useRoute();
  if (self.error !== null) {
    // A token the service refuses: the sign-in page says why and takes another.
    if (self.error.status === 401) return <SignInPage refused={self.error} onToken={onToken} />;
    return (
      <main>
        <Problem error={self.error} />
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </main>
    );
  }
  if (self.data === undefined) return <Loading what="your token" />;
  const scopes = self.data.scopes;
  const visible = PAGES.filter((page) => allowed(page, scopes));
  const wanted =
    route.unreadable === null ? (PAGES.find((page) => page.path === (route.parts[0] ?? '')) ?? visible[0]) : undefined;
  return (
    <>
      <header class="top">
        <span class="brand">Clearance console</span>
        <nav aria-label="Pages">
          {visible.map((page) => (
            <a key={page.path} href={href([page.path])} aria-current={page === wanted ? 'page' : undefined}>
              {page.title}
            </a>
          ))}
        </nav>
        <span class="who">
          Signed in as <strong>{self.data.name}</strong> ({scopes.join(', ')})
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        {route.unreadable !== null ? (
          <p role="alert">No such page: {route.unreadable}.</p>
        ) : wanted === undefined ? (
          <p role="alert">This token has none of the scopes the console's pages need (logs, policy, admin).</p>
        ) : allowed(wanted, scopes) ? (
          <wanted.view route={route} self={self.data} />
        ) : (
          <p role="alert">
            This token may not see {wanted.title}: it needs the scope{wanted.needs.length > 1 ? 's' : ''}{' '}
            {wanted.needs.join(' and ')}.
          </p>
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root === null) throw new ApiError(0, 'console_error', 'the page has no #app element');
render(<App />, root);
