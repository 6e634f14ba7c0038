// The console overview's plain parts: the period a URL names (a window ending now, or between two
// instants) with the bucket that suits it, and a metric read from Prometheus's text format.
import t from 'tap';
import { sampleOf } from '../../console/src/prometheus.ts';
import { bucketFor, periodOf } from '../../console/src/time-window.ts';

const NOW = Date.parse('2026-12-03T12:00:00.000Z');
const query = (text: string) => new URLSearchParams(text);

t.test('when the URL names no window, then the last 24 hours by hour', async (t) => {
  t.same(periodOf(query(''), NOW), {
    window: '24h',
    since: '2026-12-02T12:00:00.000Z',
    until: '2026-12-03T12:00:00.000Z',
    chosen: null,
    bucket: 'hour',
  });
});

t.test('when a named window is asked, then it ends now with the bucket that suits it', async (t) => {
  t.match(periodOf(query('window=1h'), NOW), { since: '2026-12-03T11:00:00.000Z', bucket: 'minute' });
  t.match(periodOf(query('window=7d'), NOW), { since: '2026-11-26T12:00:00.000Z', bucket: 'hour' });
  t.match(periodOf(query('window=7d&bucket=day'), NOW), { chosen: 'day', bucket: 'day' }, 'or the bucket chosen');
  t.match(periodOf(query('window=1y&bucket=week'), NOW), { window: '24h', chosen: null }, 'an unknown one is ignored');
});

t.test('when since and until are given, then the window is between them', async (t) => {
  const since = '2026-10-01T00:00:00.000Z';
  const until = '2026-12-01T00:00:00.000Z';
  t.same(periodOf(query(`window=custom&since=${since}&until=${until}`), NOW), {
    window: 'custom',
    since,
    until,
    chosen: null,
    bucket: 'day',
  });
  t.match(periodOf(query(`since=${since}`), NOW), { window: 'custom', until: '2026-12-03T12:00:00.000Z' });
  t.match(periodOf(query('window=custom'), NOW), { since: '2026-12-02T12:00:00.000Z' }, 'no times: the last day');
});

t.test('when a window is longer, then its bucket is wider, within the API’s 1,500 buckets', async (t) => {
  const HOUR = 3_600_000;
  t.equal(bucketFor(6 * HOUR), 'minute');
  t.equal(bucketFor(6 * HOUR + 1), 'hour');
  t.equal(bucketFor(14 * 24 * HOUR), 'hour');
  t.equal(bucketFor(14 * 24 * HOUR + 1), 'day');
});

t.test('when /metrics holds a gauge, then its value; else null', async (t) => {
  const text = [
    '# HELP clearance_decision_log_queue_depth Decision log entries waiting to be written',
    '# TYPE clearance_decision_log_queue_depth gauge',
    'clearance_decision_log_queue_depth 7',
    'clearance_decision_log_queue_depth_max 100',
    'clearance_decisions_total{endpoint="decide",outcome="allow"} 3',
    'clearance_decisions_total{endpoint="a {b} c",outcome="deny"} 2 1700000000000',
  ].join('\n');
  t.equal(sampleOf(text, 'clearance_decision_log_queue_depth'), 7, 'not a metric whose name starts with it');
  t.equal(sampleOf(text, 'clearance_decisions_total'), 5, 'series with labels are summed');
  t.equal(sampleOf(text, 'clearance_decision_log_waiting_on_database'), null);
});
