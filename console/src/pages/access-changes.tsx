// Access changes: the audit trail (GET /v1/audit), with every filter the API has (kept in the URL,
// applied on Enter), newest first a page at a time, who made each change, and its before and after.
import { useEffect, useState } from 'preact/hooks';
import type { paths } from '../../../service/http/openapi-types.ts';
import { client, ok, type Schemas } from '../api.ts';
import { RecordDiff } from '../components/record-diff.tsx';
import { Choice, Field, Loading, Problem } from '../components/ui.tsx';
import { formatTime, instantOf, localOf } from '../format.ts';
import type { PageProps } from '../main.tsx';
import { href, navigate } from '../route.ts';
import { useLoad } from '../use-load.ts';

type AuditEntry = Schemas['AuditEntry'];
type AuditQuery = NonNullable<paths['/v1/audit']['get']['parameters']['query']>;

/** The filters, as the API names them (and as the URL carries them). */
const FILTERS = [
  'user_id',
  'client_id',
  'record_type',
  'record_id',
  'account_id',
  'token_id',
  'since',
  'until',
] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** The kinds of record the trail holds (AuditRecordType). */
const RECORD_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['', 'any'],
  ['allocation', 'allocation (user and client)'],
  ['ledger_access', 'ledger access (user and client)'],
  ['user', 'user'],
  ['client', 'client'],
  ['account', 'account'],
  ['item', 'item'],
  ['token', 'token'],
  ['access_review', 'access review'],
  ['decision_log', 'decision log export'],
  ['policy_revision', 'policy revision'],
  ['policy_shadow', 'policy shadow'],
];

const PAGE_SIZE = 50;

function filtersOf(query: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value !== null && value !== '') filters[name] = value;
  }
  return filters;
}

export function AccessChangesPage({ route, self }: PageProps) {
  const filters = filtersOf(route.query);
  const cursor = route.query.get('cursor') ?? undefined;
  const [showUnchanged, setShowUnchanged] = useState(false);
  const key = JSON.stringify([filters, cursor]);
  const page = useLoad(
    async () => ({
      key,
      answer: await ok(
        client.GET('/v1/audit', { params: { query: { ...(filters as AuditQuery), limit: PAGE_SIZE, cursor } } }),
      ),
    }),
    [key],
  );
  // Entries loaded for other filters (or another page) are never shown under these filters' caption.
  const shown = page.data?.key === key ? page.data.answer : undefined;
  const names = useTokenNames(self);
  return (
    <>
      <h1>Access changes</h1>
      <p>
        Every change to a fact, a token or a policy, with the token that made it. Who gave a user access to a client:
        put the user's id in User and the client's id in Client (each allocation and ledger access added or removed is
        an entry).
      </p>
      <FilterForm filters={filters} />
      <div class="toolbar">
        <label class="check">
          <input
            type="checkbox"
            checked={showUnchanged}
            onChange={(event) => setShowUnchanged(event.currentTarget.checked)}
          />
          Show unchanged fields
        </label>
      </div>
      <Problem error={page.error} />
      {shown === undefined ? (
        page.error === null ? (
          <Loading what="access changes" />
        ) : null
      ) : (
        <>
          <ChangeTable
            entries={shown.entries}
            names={names}
            showUnchanged={showUnchanged}
            caption={captionOf(filters)}
          />
          <nav class="pager" aria-label="Pages of access changes">
            {cursor === undefined ? null : <a href={href(['changes'], filters)}>First page</a>}
            {shown.next_cursor === null ? null : (
              <a href={href(['changes'], { ...filters, cursor: shown.next_cursor })}>Next page</a>
            )}
          </nav>
        </>
      )}
    </>
  );
}

/** The table's caption says what it holds: the filters, in words. */
function captionOf(filters: Filters): string {
  if (filters.user_id !== undefined && filters.client_id !== undefined && Object.keys(filters).length === 2) {
    return `Changes to the access of user ${filters.user_id} to client ${filters.client_id}, newest first`;
  }
  const said: string[] = [];
  if (filters.user_id !== undefined) said.push(`user ${filters.user_id}`);
  if (filters.client_id !== undefined) said.push(`client ${filters.client_id}`);
  if (filters.record_type !== undefined) said.push(`record type ${filters.record_type}`);
  if (filters.record_id !== undefined) said.push(`record ${filters.record_id}`);
  if (filters.account_id !== undefined) said.push(`account ${filters.account_id}`);
  if (filters.token_id !== undefined) said.push(`token ${filters.token_id}`);
  if (filters.since !== undefined) said.push(`from ${formatTime(filters.since)}`);
  if (filters.until !== undefined) said.push(`until ${formatTime(filters.until)}`);
  return said.length === 0 ? 'All changes, newest first' : `Changes for ${said.join(', ')}, newest first`;
}

/**
 * Token names by id, where this token may know them: its own, and every token it may list (that
 * needs the admin scope). Others show by id alone.
 */
function useTokenNames(self: PageProps['self']): ReadonlyMap<string, string> {
  const admin = self.scopes.includes('admin');
  const listed = useLoad(
    () => (admin ? ok(client.GET('/v1/tokens')) : Promise.resolve({ tokens: [] })),
    [admin, self.id],
  );
  const names = new Map<string, string>([[self.id, self.name]]);
  for (const token of listed.data?.tokens ?? []) names.set(token.id, token.name);
  return names;
}

function FilterForm({ filters }: { filters: Filters }) {
  const [draft, setDraft] = useState<Filters>(filters);
  const key = JSON.stringify(filters);
  // Dependencies: the filters in the URL are the truth; a new URL resets the form
  useEffect(() => setDraft(filters), [key]);
  const text = (name: keyof Filters, label: string) => (
    <Field label={label} value={draft[name] ?? ''} onValue={(value) => setDraft({ ...draft, [name]: value })} />
  );
  const apply = (next: Filters) => navigate(['changes'], next);
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(event) => {
        event.preventDefault();
        apply(draft);
      }}
    >
      {text('user_id', 'User')}
      {text('client_id', 'Client')}
      <Choice
        label="Record type"
        value={draft.record_type ?? ''}
        onValue={(value) => setDraft({ ...draft, record_type: value })}
        options={RECORD_TYPES}
      />
      {text('record_id', 'Record')}
      {text('account_id', 'Account')}
      {text('token_id', 'Token')}
      <Field
        label="From"
        type="datetime-local"
        step={1}
        value={localOf(draft.since)}
        onValue={(value) => setDraft({ ...draft, since: instantOf(value) })}
      />
      <Field
        label="Until"
        type="datetime-local"
        step={1}
        value={localOf(draft.until)}
        onValue={(value) => setDraft({ ...draft, until: instantOf(value) })}
      />
      <div class="actions">
        <button type="submit">Apply filters</button>
        <button type="button" onClick={() => apply({})}>
          Clear filters
        </button>
      </div>
    </form>
  );
}

function ChangeTable({
  entries,
  names,
  showUnchanged,
  caption,
}: {
  entries: readonly AuditEntry[];
  names: ReadonlyMap<string, string>;
  showUnchanged: boolean;
  caption: string;
}) {
  if (entries.length === 0) return <p role="status">No changes match.</p>;
  return (
    <div class="table-wrap">
      <table class="stack changes">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Who</th>
            <th scope="col">Account</th>
            <th scope="col">Record</th>
            <th scope="col">Change</th>
            <th scope="col">Before and after</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const record = `${entry.record_type} ${entry.record_id}`;
            return (
              <tr key={entry.id}>
                <td data-label="Time">{formatTime(entry.at)}</td>
                <td data-label="Who">
                  <Who tokenId={entry.token_id} name={names.get(entry.token_id)} />
                </td>
                <td data-label="Account">{entry.account_id ?? '—'}</td>
                <td data-label="Record">
                  <span class="record-type">{entry.record_type}</span> <code>{entry.record_id}</code>
                </td>
                <td data-label="Change">{entry.change}</td>
                <td data-label="Before and after">
                  <RecordDiff
                    before={entry.before}
                    after={entry.after}
                    label={`Before and after: ${record}`}
                    showUnchanged={showUnchanged}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Who({ tokenId, name }: { tokenId: string; name: string | undefined }) {
  return (
    <span class="who-token">
      {name === undefined ? null : <span>{name}</span>}{' '}
      <a href={href(['changes'], { token_id: tokenId })} aria-label={`Changes by token ${tokenId}`}>
        <code>{tokenId}</code>
      </a>
    </span>
  );
}
