// Access changes: the audit trail (GET /v1/audit), with every filter the API has (kept in the URL,
// applied on Enter), newest first a page at a time, who made each change, and its before and after.
import { useState } from 'preact/hooks';
import type { paths } from '../../../service/http/openapi-types.ts';
import { client, ok, type Schemas } from '../api.ts';
import { RecordDiff } from '../components/record-diff.tsx';
import { FilterForm, type Filters as FilterValues, filtersOf } from '../components/filter-form.tsx';
import { Choice, Loading, Problem } from '../components/ui.tsx';
import { formatTime } from '../format.ts';
import type { PageProps } from '../main.tsx';
import { href } from '../route.ts';
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
type Filters = FilterValues<(typeof FILTERS)[number]>;

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

export function AccessChangesPage({ route, self }: PageProps) {
  const filters = filtersOf(FILTERS, route.query);
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
      <ChangeFilters filters={filters} />
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

function ChangeFilters({ filters }: { filters: Filters }) {
  return (
    <FilterForm page="changes" filters={filters}>
      {({ draft, set, text, time }) => (
        <>
          {text('user_id', 'User')}
          {text('client_id', 'Client')}
          <Choice
            label="Record type"
            value={draft.record_type ?? ''}
            onValue={(value) => set('record_type', value)}
            options={RECORD_TYPES}
          />
          {text('record_id', 'Record')}
          {text('account_id', 'Account')}
          {text('token_id', 'Token')}
          {time('since', 'From')}
          {time('until', 'Until')}
        </>
      )}
    </FilterForm>
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
