// Clients: pick a practice account, list its clients a page at a time, open one to see its facts
// and who has access to it for a chosen action — the users allowed, and the greyed-out ones with
// the policy's reasons (POST /v1/subjects/query, which is itself logged as a decision).
import { client, ok, type Schemas } from '../api.ts';
import { Choice, Loading, Problem, Section } from '../components/ui.tsx';
import { formatTime } from '../format.ts';
import { isId } from '../ids.ts';
import type { PageProps } from '../main.tsx';
import { href, navigate } from '../route.ts';
import { useLoad } from '../use-load.ts';

type User = Schemas['User'];
type Reason = Schemas['Reason'];

/** The actions on a client resource in the policy catalogue (policies/clearance/catalogue/tables.rego). */
const CLIENT_ACTIONS = [
  'client.view',
  'client.access',
  'client.edit',
  'client.console.view',
  'xbert.assign',
  'task.assign',
  'time.push',
] as const;
const DEFAULT_ACTION = 'client.view';

const PAGE_SIZE = 50;
/** Lists read whole (accounts for the picker, users for their names) stop after this many pages. */
const MAX_PAGES = 20;

/** Every page of a listing, up to MAX_PAGES of 1000. */
async function readAll<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages += 1) {
    const answer = await page(cursor);
    all.push(...answer.items);
    if (answer.next_cursor === null) break;
    cursor = answer.next_cursor;
  }
  return all;
}

export function ClientsPage({ route }: PageProps) {
  const [, accountId, clientId] = route.parts;
  if (accountId !== undefined && clientId !== undefined) {
    const wrong = notIds({ account: accountId, client: clientId });
    if (wrong !== null) {
      return (
        <>
          <p>
            <a href={href(['clients'])}>All clients</a>
          </p>
          <h1>Client</h1>
          {wrong}
        </>
      );
    }
    return <ClientPage accountId={accountId} clientId={clientId} query={route.query} />;
  }
  return <ClientList query={route.query} />;
}

/** What is not an id among these (named by what each is), said as an alert; null when all are. */
function notIds(values: Record<string, string>) {
  const wrong = Object.entries(values).filter(([, value]) => !isId(value));
  if (wrong.length === 0) return null;
  return (
    <p role="alert">
      {wrong.map(([what, value]) => `“${value}” is not ${what === 'account' ? 'an' : 'a'} ${what} id`).join('; ')}: an
      id is 1 to 128 letters, digits and _ . : - (not . or ..).
    </p>
  );
}

function ClientList({ query }: { query: URLSearchParams }) {
  const accounts = useLoad(
    () =>
      readAll(async (cursor) => {
        const answer = await ok(client.GET('/v1/accounts', { params: { query: { limit: 1000, cursor } } }));
        return { items: answer.accounts, next_cursor: answer.next_cursor };
      }),
    [],
  );
  const practices = (accounts.data ?? []).filter((account) => account.kind === 'practice');
  const chosen = query.get('account') ?? practices[0]?.id;
  const cursor = query.get('cursor') ?? undefined;
  const options: Array<readonly [string, string]> = practices.map((account) => [
    account.id,
    `${account.name} (${account.id})`,
  ]);
  if (chosen !== undefined && !practices.some((account) => account.id === chosen)) options.unshift([chosen, chosen]);
  return (
    <>
      <h1>Clients</h1>
      <Problem error={accounts.error} />
      {accounts.data === undefined ? (
        accounts.error === null ? (
          <Loading what="accounts" />
        ) : null
      ) : chosen === undefined ? (
        <p role="status">No practice accounts: clients belong to practice accounts.</p>
      ) : (
        <>
          <form class="picker" aria-label="Choose an account" onSubmit={(event) => event.preventDefault()}>
            <Choice
              label="Account"
              value={chosen}
              onValue={(value) => navigate(['clients'], { account: value })}
              options={options}
            />
          </form>
          {notIds({ account: chosen }) ?? <AccountClients accountId={chosen} cursor={cursor} />}
        </>
      )}
    </>
  );
}

function AccountClients({ accountId, cursor }: { accountId: string; cursor: string | undefined }) {
  const key = JSON.stringify([accountId, cursor]);
  const page = useLoad(
    async () => ({
      key,
      answer: await ok(
        client.GET('/v1/accounts/{accountId}/clients', {
          params: { path: { accountId }, query: { limit: PAGE_SIZE, cursor } },
        }),
      ),
    }),
    [key],
  );
  if (page.error !== null) return <Problem error={page.error} />;
  // A page loaded for another account (or cursor) is never shown under this one's caption.
  const shown = page.data?.key === key ? page.data.answer : undefined;
  if (shown === undefined) return <Loading what="clients" />;
  const clients = shown.clients;
  return (
    <>
      {clients.length === 0 ? (
        <p role="status">This account has no clients.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <caption>Clients of {accountId}, by id</caption>
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col">Id</th>
                <th scope="col">Ledger</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {clients.map((entry) => (
                <tr key={entry.id}>
                  <td data-label="Client">
                    <a href={href(['clients', accountId, entry.id])}>{entry.name}</a>
                  </td>
                  <td data-label="Id">
                    <code>{entry.id}</code>
                  </td>
                  <td data-label="Ledger">{entry.ledger}</td>
                  <td data-label="Updated">{formatTime(entry.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages of clients">
        {cursor === undefined ? null : <a href={href(['clients'], { account: accountId })}>First page</a>}
        {shown.next_cursor === null ? null : (
          <a href={href(['clients'], { account: accountId, cursor: shown.next_cursor })}>Next page</a>
        )}
      </nav>
    </>
  );
}

function ClientPage({ accountId, clientId, query }: { accountId: string; clientId: string; query: URLSearchParams }) {
  const facts = useLoad(
    () => ok(client.GET('/v1/accounts/{accountId}/clients/{clientId}', { params: { path: { accountId, clientId } } })),
    [accountId, clientId],
  );
  const action = query.get('action') ?? DEFAULT_ACTION;
  const back = (
    <p>
      <a href={href(['clients'], { account: accountId })}>All clients of {accountId}</a>
    </p>
  );
  if (facts.error !== null) {
    return (
      <>
        {back}
        <h1>Client {clientId}</h1>
        <Problem error={facts.error} />
      </>
    );
  }
  if (facts.data === undefined) return <Loading what="the client" />;
  const c = facts.data;
  return (
    <>
      {back}
      <h1>{c.name}</h1>
      <Section title="Facts">
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{c.id}</code>
          </dd>
          <dt>Account</dt>
          <dd>
            <code>{c.account_id}</code>
          </dd>
          <dt>Ledger</dt>
          <dd>{c.ledger}</dd>
          <dt>Created</dt>
          <dd>{formatTime(c.created_at)}</dd>
          <dt>Updated</dt>
          <dd>{formatTime(c.updated_at)}</dd>
        </dl>
      </Section>
      <WhoHasAccess accountId={accountId} clientId={clientId} action={action} />
    </>
  );
}

function WhoHasAccess({ accountId, clientId, action }: { accountId: string; clientId: string; action: string }) {
  const users = useLoad(
    () =>
      readAll(async (cursor) => {
        const answer = await ok(
          client.GET('/v1/accounts/{accountId}/users', {
            params: { path: { accountId }, query: { limit: 1000, cursor } },
          }),
        );
        return { items: answer.users, next_cursor: answer.next_cursor };
      }),
    [accountId],
  );
  const key = JSON.stringify([clientId, action]);
  const access = useLoad(
    async () => ({
      key,
      answer: await ok(
        client.POST('/v1/subjects/query', {
          body: { action, resource: { type: 'client', id: clientId }, include_denied: true },
        }),
      ),
    }),
    [key],
  );
  // An answer for another action is never shown under this one.
  const answer = access.data?.key === key ? access.data.answer : undefined;
  const known = new Map((users.data ?? []).map((user) => [user.id, user]));
  const options = CLIENT_ACTIONS.map((name) => [name, name] as const);
  return (
    <Section title="Who has access">
      <form class="picker" aria-label="Choose an action" onSubmit={(event) => event.preventDefault()}>
        <Choice
          label="Action"
          value={action}
          onValue={(value) => navigate(['clients', accountId, clientId], { action: value })}
          options={CLIENT_ACTIONS.some((name) => name === action) ? options : [[action, action] as const, ...options]}
        />
      </form>
      <p class="note">
        Each user of the account is judged by the active policy as a decision about this client would judge them. Asking
        is itself a decision: every time this list is shown, the query is written to the decision log.
        {answer === undefined ? null : (
          <>
            {' '}
            <a href={href(['decisions', answer.decision_id])}>This query in the decision log</a>.
          </>
        )}
      </p>
      <Problem error={users.error} />
      <Problem error={access.error} />
      {answer === undefined ? (
        access.error === null ? (
          <Loading what="who has access" />
        ) : null
      ) : (
        <>
          <p role="status">
            {action}: {count(answer.allowed.length)} allowed, {count(answer.denied?.length ?? 0)} not.
          </p>
          <UserTable
            caption={`Allowed to ${action}`}
            rows={answer.allowed.map((id) => ({ id, reasons: null }))}
            known={known}
            clientId={clientId}
            denied={false}
          />
          <UserTable
            caption={`Not allowed to ${action} (greyed out), with why`}
            rows={(answer.denied ?? []).map((denied) => ({ id: denied.id, reasons: denied.reasons }))}
            known={known}
            clientId={clientId}
            denied
          />
        </>
      )}
    </Section>
  );
}

const count = (n: number) => `${n} ${n === 1 ? 'user' : 'users'}`;

function UserTable({
  caption,
  rows,
  known,
  clientId,
  denied,
}: {
  caption: string;
  rows: ReadonlyArray<{ id: string; reasons: readonly Reason[] | null }>;
  known: ReadonlyMap<string, User>;
  clientId: string;
  denied: boolean;
}) {
  if (rows.length === 0) return null;
  return (
    <div class="table-wrap">
      <table class={denied ? 'stack users denied-users' : 'stack users'}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Id</th>
            <th scope="col">Role</th>
            {denied ? <th scope="col">Why not</th> : null}
            <th scope="col">Decisions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const user = known.get(row.id);
            return (
              <tr key={row.id} class={row.reasons === null ? undefined : 'greyed'}>
                <td data-label="User">{user?.name ?? row.id}</td>
                <td data-label="Id">
                  <code>{row.id}</code>
                </td>
                <td data-label="Role">
                  {user === undefined ? '—' : user.status === 'active' ? user.role : `${user.role}, ${user.status}`}
                </td>
                {row.reasons === null ? null : (
                  <td data-label="Why not">
                    <ul class="reasons" aria-label={`Why ${row.id} may not`}>
                      {row.reasons.map((reason) => (
                        <li key={reason.code}>
                          <code>{reason.code}</code>
                          {reason.message ? ` — ${reason.message}` : ''}
                        </li>
                      ))}
                    </ul>
                  </td>
                )}
                <td data-label="Decisions">
                  <a
                    href={href(['decisions'], { subject_id: row.id, resource_id: clientId })}
                    aria-label={`Decision log of ${row.id} on ${clientId}`}
                  >
                    Decision log
                  </a>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
