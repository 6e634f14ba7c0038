// Clients: pick a practice account, list its clients a page at a time, open one to see its facts
// and who has access to it for a chosen action — the users allowed, and the greyed-out ones with
// the policy's reasons (POST /v1/subjects/query, which is itself logged as a decision).
import { client, ok } from '../api.ts';
import { Choice, Loading, Problem, Section } from '../components/ui.tsx';
import { DEFAULT_CLIENT_ACTION, WhoHasAccess } from '../components/who-has-access.tsx';
import { formatTime } from '../format.ts';
import { isId } from '../ids.ts';
import type { PageProps } from '../main.tsx';
import { readAll } from '../read-all.ts';
import { href, navigate } from '../route.ts';
import { useLoad } from '../use-load.ts';

const PAGE_SIZE = 50;

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
  const action = query.get('action') ?? DEFAULT_CLIENT_ACTION;
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
