// The service's Prometheus metrics: one registry per app (tests build many apps in one process),
// with the process defaults (CPU, memory, event loop, GC) and what operators watch: decisions by
// outcome and their latency, and the decision log's queue, writes and outages.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  readonly registry = new Registry();

  readonly decisions = new Counter({
    name: 'clearance_decisions_total',
    help: 'Answers given, by endpoint and outcome (allow, deny, or error: refused because no decision could be made)',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly decisionSeconds = new Histogram({
    name: 'clearance_decision_duration_seconds',
    help: 'Time to answer, from request to logged answer, by endpoint (a batch or list query counts once)',
    labelNames: ['endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly logQueueDepth = new Gauge({
    name: 'clearance_decision_log_queue_depth',
    help: 'Decision log entries waiting to be written',
    registers: [this.registry],
  });

  readonly logWaitingOnDatabase = new Gauge({
    name: 'clearance_decision_log_waiting_on_database',
    help: 'Decision log entries held while the database fails: every queued entry, those arriving during the retry pause included, from a failed write until one succeeds (0 while writes succeed)',
    registers: [this.registry],
  });

  readonly logWritten = new Counter({
    name: 'clearance_decision_log_entries_written_total',
    help: 'Decision log entries committed to the database',
    registers: [this.registry],
  });

  readonly logWriteSeconds = new Histogram({
    name: 'clearance_decision_log_write_duration_seconds',
    help: 'Time to commit one batch of decision log entries',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly logWriteErrors = new Counter({
    name: 'clearance_decision_log_write_errors_total',
    help: 'Failed attempts to write a batch of decision log entries (the entries stay queued and are retried)',
    registers: [this.registry],
  });

  readonly logIsolationWrites = new Counter({
    name: 'clearance_decision_log_isolation_writes_total',
    help: 'Extra writes made to set apart an entry the database refused from the rest of its batch (halving the batch)',
    registers: [this.registry],
  });

  readonly logUnstorable = new Counter({
    name: 'clearance_decision_log_unstorable_total',
    help: 'Entries the database refused even so, kept without their input (error log_entry_unstorable)',
    registers: [this.registry],
  });

  readonly logBackpressureWaits = new Counter({
    name: 'clearance_decision_log_backpressure_waits_total',
    help: 'Answers that waited for room in the full decision log queue',
    registers: [this.registry],
  });

  readonly logSpilled = new Counter({
    name: 'clearance_decision_log_spilled_total',
    help: 'Entries written to the spill folder at shutdown because the database could not take them',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge read when scraped, for values another component owns. */
  observe(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A counter with one label, read when scraped, for totals another component keeps by that label. */
  observeTotals(name: string, help: string, label: string, read: () => Readonly<Record<string, number>>): void {
    const last = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        for (const [value, now] of Object.entries(read())) {
          const before = last.get(value) ?? 0;
          // Every label value shows, at 0 until it counts.
          this.inc({ [label]: value }, now - before);
          last.set(value, now);
        }
      },
    });
  }

  /** A counter read when scraped, for totals another component keeps. */
  observeTotal(name: string, help: string, read: () => number): void {
    let last = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  }
}
