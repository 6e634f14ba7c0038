// The decision log: every filter the API has (kept in the URL, applied on Enter), pages newest
// first, a live tail, and export of the filtered set streamed by the API.
import { useEffect, useState } from 'preact/hooks';
import type { paths } from '../../../service/http/openapi-types.ts';
import { type ApiError, authorizedFetch, client, type DecisionEntry, ok, asApiError } from '../api.ts';
import { DecisionTable } from '../components/decision-table.tsx';
import { FilterForm, type Filters as FilterValues, filtersOf } from '../components/filter-form.tsx';
import { Choice, Loading, Problem } from '../components/ui.tsx';
import { TAIL_PAGE_SIZE, tailReader } from '../live-tail.ts';
import type { PageProps } from '../main.tsx';
import { href } from '../route.ts';
import { useLoad } from '../use-load.ts';

/** The filters, as the API names them (and as the URL carries them). */
const FILTERS = [
  'subject_id',
  'action',
  'resource_type',
  'resource_id',
  'allow',
  'reason_code',
  'policy_revision',
  'endpoint',
  'batch_id',
  'token_id',
  'shadow_differs',
  'since',
  'until',
] as const;
type Filters = FilterValues<(typeof FILTERS)[number]>;
type ListQuery = NonNullable<paths['/v1/decisions']['get']['parameters']['query']>;

const PAGE_SIZE = 50;

/** The filters as the API's query: booleans as booleans, the rest as written. */
export function listQuery(filters: Filters): ListQuery {
  const { allow, shadow_differs, resource_type, endpoint, ...rest } = filters;
  return {
    ...rest,
    ...(allow === undefined ? {} : { allow: allow === 'true' }),
    ...(shadow_differs === undefined ? {} : { shadow_differs: shadow_differs === 'true' }),
    ...(resource_type === undefined ? {} : { resource_type: resource_type as ListQuery['resource_type'] }),
    ...(endpoint === undefined ? {} : { endpoint: endpoint as ListQuery['endpoint'] }),
  } as ListQuery;
}

export function DecisionsPage({ route }: PageProps) {
  const filters = filtersOf(FILTERS, route.query);
  const cursor = route.query.get('cursor') ?? undefined;
  const [tail, setTail] = useState(false);
  const key = JSON.stringify(filters);
  const page = useLoad(
    () => ok(client.GET('/v1/decisions', { params: { query: { ...listQuery(filters), limit: PAGE_SIZE, cursor } } })),
    [key, cursor],
  );
  return (
    <>
      <h1>Decisions</h1>
      <DecisionFilters filters={filters} />
      <div class="toolbar">
        <label class="check">
          <input
            type="checkbox"
            checked={tail}
            disabled={filters.until !== undefined}
            onChange={(event) => {
              setTail(event.currentTarget.checked);
              // Back from the tail, the page shows what has arrived meanwhile.
              if (!event.currentTarget.checked) page.reload();
            }}
          />
          Live tail
        </label>
        <ExportButtons filters={filters} />
      </div>
      {tail ? (
        <LiveTail filters={filters} />
      ) : (
        <>
          <Problem error={page.error} />
          {page.data === undefined ? (
            page.error === null ? (
              <Loading what="decisions" />
            ) : null
          ) : (
            <>
              <DecisionTable entries={page.data.decisions} caption="Decisions matching the filters, newest first" />
              <nav class="pager" aria-label="Pages of decisions">
                {cursor === undefined ? null : <a href={href(['decisions'], filters)}>First page</a>}
                {page.data.next_cursor === null ? null : (
                  <a href={href(['decisions'], { ...filters, cursor: page.data.next_cursor })}>Next page</a>
                )}
              </nav>
            </>
          )}
        </>
      )}
    </>
  );
}

function DecisionFilters({ filters }: { filters: Filters }) {
  return (
    <FilterForm page="decisions" filters={filters}>
      {({ draft, set, apply, text, time }) => (
        <>
          {text('subject_id', 'Subject')}
          {text('action', 'Action')}
          <Choice
            label="Resource type"
            value={draft.resource_type ?? ''}
            onValue={(value) => set('resource_type', value)}
            options={[
              ['', 'any'],
              ['client', 'client'],
              ['account', 'account'],
              ['user', 'user'],
              ['item', 'item'],
            ]}
          />
          {text('resource_id', 'Resource')}
          <Choice
            label="Answer"
            value={draft.allow ?? ''}
            onValue={(value) => apply({ ...draft, allow: value })}
            options={[
              ['', 'any'],
              ['true', 'allowed'],
              ['false', 'denied'],
            ]}
          />
          {text('reason_code', 'Reason code')}
          {text('policy_revision', 'Revision')}
          <Choice
            label="Endpoint"
            value={draft.endpoint ?? ''}
            onValue={(value) => set('endpoint', value)}
            options={[
              ['', 'any'],
              ['decide', 'decide'],
              ['batch', 'batch'],
              ['opa', 'OPA'],
              ['query', 'resources query'],
              ['subjects', 'subjects query'],
            ]}
          />
          {text('batch_id', 'Batch')}
          {text('token_id', 'Token id')}
          {time('since', 'From')}
          {time('until', 'Until')}
          <Choice
            label="Shadow"
            value={draft.shadow_differs ?? ''}
            onValue={(value) => set('shadow_differs', value)}
            options={[
              ['', 'any'],
              ['true', 'disagreements only'],
              ['false', 'agreements only'],
            ]}
          />
        </>
      )}
    </FilterForm>
  );
}

/** New decisions as they reach the log, polled every POLL_MS (what each poll reads: live-tail.ts). */
const POLL_MS = 2000;
const TAIL_MAX = 500;

function LiveTail({ filters }: { filters: Filters }) {
  const [entries, setEntries] = useState<DecisionEntry[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [behind, setBehind] = useState(false);
  const key = JSON.stringify(filters);
  // Dependencies: restarts when the filters change
  useEffect(() => {
    // Each run has its own reader (the ids it has shown, the newest time it has read): a poll of an
    // earlier run still under way changes nothing of this one, and nothing on screen once it ends.
    let stopped = false;
    const isStopped = () => stopped;
    const poll = tailReader(
      (since, cursor) =>
        ok(
          client.GET('/v1/decisions', {
            params: { query: { ...listQuery(filters), since, limit: TAIL_PAGE_SIZE, cursor } },
          }),
        ),
      filters.since,
    );
    setEntries([]);
    setBehind(false);
    setError(null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loop = async () => {
      try {
        const read = await poll(isStopped);
        if (read === null || stopped) return;
        setError(null);
        // Once some were left unread, the tail has gaps: said until it starts again.
        if (read.behind) setBehind(true);
        if (read.fresh.length > 0) {
          setEntries((shown) =>
            [...read.fresh, ...shown]
              .sort((a, b) => b.decided_at.localeCompare(a.decided_at) || b.decision_id.localeCompare(a.decision_id))
              .slice(0, TAIL_MAX),
          );
        }
      } catch (failure) {
        if (stopped) return;
        setError(asApiError(failure));
      }
      timer = setTimeout(loop, POLL_MS);
    };
    void loop();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key]);
  return (
    <section aria-label="New decisions">
      <p role="status">
        Live tail: new decisions appear as they reach the log (every {POLL_MS / 1000} s), newest first.
        {behind
          ? ` More decisions arrived than the tail reads every ${POLL_MS / 1000} s: it shows the newest; the list has them all.`
          : ''}
      </p>
      <Problem error={error} />
      <DecisionTable entries={entries} caption="Decisions as they arrive, newest first" />
    </section>
  );
}

function ExportButtons({ filters }: { filters: Filters }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const download = async (format: 'csv' | 'ndjson') => {
    setBusy(format);
    setError(null);
    try {
      const query = new URLSearchParams({ ...(filters as Record<string, string>), format });
      const response = await authorizedFetch(`/v1/decisions/export?${query}`);
      // The API streams the file; the browser keeps it as a blob (on disk when large) to save it.
      const blob = await response.blob();
      const disposition = response.headers.get('content-disposition') ?? '';
      const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `decisions.${format}`;
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(null);
    }
  };
  return (
    <span class="export">
      <button type="button" disabled={busy !== null} onClick={() => download('csv')}>
        {busy === 'csv' ? 'Exporting CSV…' : 'Export CSV'}
      </button>
      <button type="button" disabled={busy !== null} onClick={() => download('ndjson')}>
        {busy === 'ndjson' ? 'Exporting NDJSON…' : 'Export NDJSON'}
      </button>
      <Problem error={error} />
    </span>
  );
}
