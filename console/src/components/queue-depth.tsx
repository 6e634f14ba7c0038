// The decision log's queue of the process that answers /metrics, read every few seconds: its depth
// and, while writes to the database fail, what it holds for the database.
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, client, ok, asApiError } from '../api.ts';
import { formatTime } from '../format.ts';
import { sampleOf } from '../prometheus.ts';
import { Loading, Problem, Section } from './ui.tsx';

const QUEUE_POLL_MS = 5000;
const QUEUE_DEPTH = 'clearance_decision_log_queue_depth';
const WAITING_ON_DATABASE = 'clearance_decision_log_waiting_on_database';

/**
 * The decision log's queue as GET /metrics tells it. Each process (each worker, each replica) has a
 * queue of its own, and /metrics answers for the one that took the request, so this is one of them.
 */
export function QueueDepth() {
  const [reading, setReading] = useState<{ depth: number | null; waiting: number | null; at: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const text = await ok(client.GET('/metrics', { parseAs: 'text' }));
        if (stopped) return;
        setReading({
          depth: sampleOf(text, QUEUE_DEPTH),
          waiting: sampleOf(text, WAITING_ON_DATABASE),
          at: new Date().toISOString(),
        });
        setError(null);
      } catch (failure) {
        if (!stopped) setError(asApiError(failure));
      }
      if (!stopped) timer = setTimeout(poll, QUEUE_POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return (
    <Section title="Decision-log queue">
      <p class="note">
        This process's queue only: /metrics answers for the worker that took the request, and every worker and replica
        keeps a queue of its own. Read every {QUEUE_POLL_MS / 1000} s.
      </p>
      <Problem error={error} />
      {reading === null ? (
        error === null ? (
          <Loading what="the queue" />
        ) : null
      ) : (
        <dl class="cards counts" aria-label="Queue">
          <div class="card">
            <dt>Queue depth</dt>
            <dd class="figure">{reading.depth === null ? '—' : reading.depth.toLocaleString()}</dd>
            <dd class="note">entries waiting to be written, at {formatTime(reading.at)}</dd>
          </div>
          {reading.waiting === null || reading.waiting === 0 ? null : (
            <div class="card">
              <dt>Held for the database</dt>
              <dd class="figure">{reading.waiting.toLocaleString()}</dd>
              <dd class="note">entries kept while writes to the database fail</dd>
            </div>
          )}
        </dl>
      )}
    </Section>
  );
}
