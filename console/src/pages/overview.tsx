// Overview: the decision log's figures for a window (kept in the URL): decisions over time, the
// commonest deny reasons and actions, evaluation times; and this process's log queue, live.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { client, ok, type Schemas } from '../api.ts';
import { QueueDepth } from '../components/queue-depth.tsx';
import { type ChartSeries, TimeChart } from '../components/time-chart.tsx';
import { Choice, Loading, Problem, Section, TimeField } from '../components/ui.tsx';
import { formatMicros, formatTime } from '../format.ts';
import type { PageProps } from '../main.tsx';
import { href, navigate } from '../route.ts';
import { bucketFor, type Period, periodOf, WINDOWS } from '../time-window.ts';
import { useLoad } from '../use-load.ts';

type Stats = Schemas['DecisionStats'];

export function OverviewPage({ route }: PageProps) {
  // A window ending now ends when it was chosen, or when Refresh was last pressed.
  const [refreshes, setRefreshes] = useState(0);
  const key = route.query.toString();
  const period = useMemo(() => periodOf(route.query, Date.now()), [key, refreshes]);
  const stats = useLoad(
    () =>
      ok(
        client.GET('/v1/decisions/stats', {
          params: { query: { since: period.since, until: period.until, bucket: period.bucket } },
        }),
      ),
    [period.since, period.until, period.bucket, refreshes],
  );
  return (
    <>
      <h1>Overview</h1>
      <PeriodForm period={period} onRefresh={() => setRefreshes((count) => count + 1)} />
      <Problem error={stats.error} />
      {stats.data === undefined ? (
        stats.error === null ? (
          <Loading what="the decision log's figures" />
        ) : null
      ) : (
        <Figures stats={stats.data} updating={stats.loading} />
      )}
      <QueueDepth />
    </>
  );
}

const BUCKET_TEXT = { minute: 'minute', hour: 'hour', day: 'day' } as const;

function PeriodForm({ period, onRefresh }: { period: Period; onRefresh: () => void }) {
  const [since, setSince] = useState(period.since);
  const [until, setUntil] = useState(period.until);
  // Dependencies: a new period (URL or refresh) resets the fields
  useEffect(() => {
    setSince(period.since);
    setUntil(period.until);
  }, [period.since, period.until]);
  const bucket = period.chosen ?? undefined;
  const auto = bucketFor(Date.parse(period.until) - Date.parse(period.since));
  return (
    <form
      class="filters period"
      aria-label="Period shown"
      onSubmit={(event) => {
        event.preventDefault();
        navigate(['overview'], { window: 'custom', since, until, bucket });
      }}
    >
      <Choice
        label="Window"
        value={period.window}
        onValue={(value) =>
          navigate(
            ['overview'],
            value === 'custom'
              ? { window: value, since: period.since, until: period.until, bucket }
              : { window: value, bucket },
          )
        }
        options={[
          ...Object.entries(WINDOWS).map(([name, window]) => [name, window.text] as const),
          ['custom', 'between two times'],
        ]}
      />
      {period.window === 'custom' ? (
        <>
          <TimeField label="From" value={since} onValue={(value) => setSince(value ?? '')} />
          <TimeField label="Until" value={until} onValue={(value) => setUntil(value ?? '')} />
        </>
      ) : null}
      <Choice
        label="Bucket"
        value={period.chosen ?? ''}
        onValue={(value) =>
          navigate(['overview'], {
            window: period.window,
            ...(period.window === 'custom' ? { since: period.since, until: period.until } : {}),
            bucket: value,
          })
        }
        options={[
          ['', `automatic (${BUCKET_TEXT[auto]})`],
          ['minute', 'minute'],
          ['hour', 'hour'],
          ['day', 'day'],
        ]}
      />
      <div class="actions">
        {period.window === 'custom' ? <button type="submit">Show</button> : null}
        <button type="button" onClick={onRefresh}>
          Refresh
        </button>
      </div>
    </form>
  );
}

/** Each kind of answer: its name on screen, its colour, and a dash so no line is told by colour alone. */
const KINDS = [
  { key: 'allowed', label: 'Allowed', color: '--allowed' },
  { key: 'denied', label: 'Denied', color: '--denied', dash: [8, 4] },
  { key: 'errors', label: 'Refused', color: '--refused', dash: [2, 3] },
  { key: 'lists', label: 'List queries', color: '--muted', dash: [12, 4, 2, 4] },
] as const;

function Figures({ stats, updating }: { stats: Stats; updating: boolean }) {
  const chart = useMemo(() => {
    const times = stats.buckets.map((bucket) => Date.parse(bucket.start));
    const series: ChartSeries[] = KINDS.map(({ key, ...line }) => ({
      ...line,
      values: stats.buckets.map((bucket) => bucket[key]),
    }));
    return { times, series };
  }, [stats]);
  const window = { since: stats.since, until: stats.until };
  const total = KINDS.reduce((sum, { key }) => sum + stats.totals[key], 0);
  return (
    <>
      <p class="period-shown" role="status">
        {updating ? 'Updating… ' : ''}From {formatTime(stats.since)} until {formatTime(stats.until)}, by{' '}
        {BUCKET_TEXT[stats.bucket]}.
      </p>
      <figure class="decisions-chart">
        <figcaption>Decisions over time, by {BUCKET_TEXT[stats.bucket]}</figcaption>
        <TimeChart times={chart.times} series={chart.series} />
        <dl class="cards counts" aria-label="Totals">
          <div class="card">
            <dt>Decisions</dt>
            <dd class="figure">{total.toLocaleString()}</dd>
            <dd class="note">in the window</dd>
          </div>
          {KINDS.map(({ key, label }) => (
            <div class="card" key={key}>
              <dt>{label}</dt>
              <dd class="figure">{stats.totals[key].toLocaleString()}</dd>
              <dd class="note">{NOTES[key]}</dd>
            </div>
          ))}
        </dl>
      </figure>
      <div class="overview-figures">
        <Percentiles title="Evaluation time" note="in the policy" times={stats.eval_us} />
        <Percentiles title="Time to answer" note="from request to answer, facts included" times={stats.duration_us} />
      </div>
      <div class="overview-tables">
        <DenyReasons stats={stats} window={window} />
        <TopActions stats={stats} window={window} />
      </div>
    </>
  );
}

const NOTES = {
  allowed: 'allowed by the policy',
  denied: 'denied by the policy',
  errors: 'refused for want of a decision',
  lists: 'list queries answered (some allowed, some denied)',
} as const;

function Percentiles({ title, note, times }: { title: string; note: string; times: Schemas['TimePercentiles'] }) {
  return (
    <Section title={title}>
      <p class="note">Percentiles of single decisions, {note}.</p>
      <dl class="cards counts" aria-label={`${title} percentiles`}>
        {(['p50', 'p95', 'p99'] as const).map((name) => (
          <div class="card" key={name}>
            <dt>{name}</dt>
            <dd class="figure">{formatMicros(times[name])}</dd>
          </div>
        ))}
      </dl>
    </Section>
  );
}

interface Window {
  since: string;
  until: string;
}

function DenyReasons({ stats, window }: { stats: Stats; window: Window }) {
  return (
    <Section title="Top deny reasons">
      {stats.top_deny_reasons.length === 0 ? (
        <p role="status">Nothing was denied in this window.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <caption>The commonest reason codes of denials and refusals; each opens the decisions it names</caption>
            <thead>
              <tr>
                <th scope="col">Reason code</th>
                <th scope="col">Denials</th>
              </tr>
            </thead>
            <tbody>
              {stats.top_deny_reasons.map((reason) => (
                <tr key={reason.code}>
                  <td data-label="Reason code">
                    <a href={href(['decisions'], { reason_code: reason.code, allow: 'false', ...window })}>
                      {reason.code}
                    </a>
                  </td>
                  <td data-label="Denials">{reason.count.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

function TopActions({ stats, window }: { stats: Stats; window: Window }) {
  return (
    <Section title="Top actions">
      {stats.top_actions.length === 0 ? (
        <p role="status">No single decisions in this window.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <caption>The commonest actions of single decisions, with their answers</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Allowed</th>
                <th scope="col">Denied</th>
                <th scope="col">Refused</th>
              </tr>
            </thead>
            <tbody>
              {stats.top_actions.map((row) => (
                <tr key={row.action ?? ''}>
                  <td data-label="Action">
                    {row.action === null ? (
                      'no request (refused before one was read)'
                    ) : (
                      <a href={href(['decisions'], { action: row.action, ...window })}>{row.action}</a>
                    )}
                  </td>
                  <td data-label="Allowed">{row.allowed.toLocaleString()}</td>
                  <td data-label="Denied">{row.denied.toLocaleString()}</td>
                  <td data-label="Refused">{row.errors.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
