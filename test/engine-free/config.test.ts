import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../../service/config.ts';

t.test('when nothing is set, then the documented defaults apply', async (t) => {
  const config = loadConfig({});
  t.equal(config.databaseUrl, null);
  t.equal(config.host, '127.0.0.1');
  t.equal(config.port, 8181);
  t.equal(config.adminToken, null);
  t.equal(config.logLevel, 'info');
  t.equal(config.seedDemo, true, 'the embedded engine gets demo data');
  t.equal(loadConfig({ DATABASE_URL: 'postgres://localhost/x' }).seedDemo, false, 'a real database does not');
  t.same(config.decisionLog, { mode: 'buffered', retentionDays: 30, queueMax: 50_000, thread: true, lingerMs: 20 });
  t.equal(config.factCacheMaxEntries, 100_000);
  t.equal(config.workers, 1);
  t.equal(config.pgliteSharedBuffers, '32MB', "the embedded engine keeps a quarter of PostgreSQL's default in memory");
  t.equal(config.compileCacheDir, join(tmpdir(), 'node-compile-cache'), "Node's own default compile cache folder");
  t.equal(loadConfig({ NODE_COMPILE_CACHE: '/var/cache/clearance' }).compileCacheDir, '/var/cache/clearance');
  t.equal(config.workerMallocArenaMax, 2, "the workers' malloc arenas are limited to two");
  t.equal(loadConfig({ MALLOC_ARENA_MAX: '8' }).workerMallocArenaMax, 8, "glibc's own variable, when set, wins");
});

const bad: Array<[string, Record<string, string>, RegExp]> = [
  ['PORT is not a number', { PORT: 'abc' }, /^invalid configuration: PORT must be a whole number/],
  ['PORT is out of range', { PORT: '70000' }, /^invalid configuration: PORT /],
  ['DATABASE_URL is not a URL', { DATABASE_URL: 'not a url' }, /^invalid configuration: DATABASE_URL is not a URL/],
  [
    'DATABASE_URL is not postgres',
    { DATABASE_URL: 'mysql://localhost/x' },
    /^invalid configuration: DATABASE_URL must start with postgres/,
  ],
  [
    'DATABASE_URL names no database',
    { DATABASE_URL: 'postgres://localhost' },
    /^invalid configuration: DATABASE_URL names no database/,
  ],
  ['MALLOC_ARENA_MAX is not a count', { MALLOC_ARENA_MAX: 'few' }, /^invalid configuration: MALLOC_ARENA_MAX must be/],
  ['LOG_LEVEL is unknown', { LOG_LEVEL: 'loud' }, /^invalid configuration: LOG_LEVEL must be one of/],
  [
    'the admin token is short',
    { CLEARANCE_ADMIN_TOKEN: 'short' },
    /^invalid configuration: CLEARANCE_ADMIN_TOKEN must be at least 16/,
  ],
  [
    'DECISION_LOG is unknown',
    { DECISION_LOG: 'sometimes' },
    /^invalid configuration: DECISION_LOG must be one of buffered, durable, off, got "sometimes"$/,
  ],
  [
    'the retention is zero days',
    { DECISION_LOG_RETENTION_DAYS: '0' },
    /^invalid configuration: DECISION_LOG_RETENTION_DAYS must be a whole number from 1 to 3650/,
  ],
  [
    'the queue bound is not a number',
    { DECISION_LOG_QUEUE_MAX: 'lots' },
    /^invalid configuration: DECISION_LOG_QUEUE_MAX must be a whole number/,
  ],
  [
    'the fact cache size is negative',
    { FACT_CACHE_MAX_ENTRIES: '-1' },
    /^invalid configuration: FACT_CACHE_MAX_ENTRIES must be a whole number from 0/,
  ],
  [
    'CLEARANCE_WORKERS is not a number',
    { CLEARANCE_WORKERS: 'many', DATABASE_URL: 'postgres://h/db' },
    /^invalid configuration: CLEARANCE_WORKERS must be auto or a whole number from 1 to 256, got "many"$/,
  ],
  [
    'PGLITE_SHARED_BUFFERS has no unit',
    { PGLITE_SHARED_BUFFERS: '32' },
    /^invalid configuration: PGLITE_SHARED_BUFFERS must be a size from 128kB to 1GB such as 32MB, got "32"$/,
  ],
  [
    'PGLITE_SHARED_BUFFERS is below the floor',
    { PGLITE_SHARED_BUFFERS: '64kB' },
    /^invalid configuration: PGLITE_SHARED_BUFFERS must be a size/,
  ],
  [
    'CLEARANCE_WORKERS is above 1 with the embedded engine',
    { CLEARANCE_WORKERS: '2' },
    /^invalid configuration: CLEARANCE_WORKERS above 1 needs DATABASE_URL/,
  ],
  [
    'OTEL_EXPORTER_OTLP_ENDPOINT is not a URL',
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
    /^invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT must start with http:\/\/ or https:\/\//,
  ],
  [
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not a URL',
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' },
    /^invalid configuration: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not a URL/,
  ],
  [
    'OTEL_TRACES_EXPORTER names an exporter this service has not',
    { OTEL_TRACES_EXPORTER: 'zipkin' },
    /^invalid configuration: OTEL_TRACES_EXPORTER must be otlp or none, got "zipkin"$/,
  ],
  [
    'OTEL_TRACES_SAMPLER is unknown',
    { OTEL_TRACES_SAMPLER: 'sometimes' },
    /^invalid configuration: OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, /,
  ],
  [
    'OTEL_TRACES_SAMPLER_ARG is above 1',
    { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '5' },
    /^invalid configuration: OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/,
  ],
  [
    'OTEL_TRACES_SAMPLER_ARG is not a number',
    { OTEL_TRACES_SAMPLER_ARG: 'half' },
    /^invalid configuration: OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/,
  ],
];
for (const [when, env, message] of bad) {
  t.test(`when ${when}, then loading fails naming the variable`, async (t) => {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message });
    try {
      loadConfig(env);
    } catch (error) {
      t.ok(error instanceof ConfigError);
      t.notMatch((error as Error).message, /\n/, 'one line');
    }
  });
}

t.test('when values are valid, then they are parsed', async (t) => {
  const config = loadConfig({
    PORT: '0',
    HOST: '0.0.0.0',
    LOG_LEVEL: 'DEBUG',
    DATABASE_URL: 'postgresql://u@h:5433/db',
    CLEARANCE_ADMIN_TOKEN: 'x'.repeat(32),
  });
  t.equal(config.port, 0);
  t.equal(config.host, '0.0.0.0');
  t.equal(config.logLevel, 'debug');
  t.equal(config.databaseUrl, 'postgresql://u@h:5433/db');
  t.equal(config.adminToken, 'x'.repeat(32));
  const log = loadConfig({
    DECISION_LOG: 'Durable',
    DECISION_LOG_RETENTION_DAYS: '7',
    DECISION_LOG_QUEUE_MAX: '2000',
    DECISION_LOG_THREAD: 'false',
    DECISION_LOG_LINGER_MS: '0',
  }).decisionLog;
  t.same(log, { mode: 'durable', retentionDays: 7, queueMax: 2000, thread: false, lingerMs: 0 });
  t.throws(() => loadConfig({ DECISION_LOG_LINGER_MS: '5000' }), { message: /DECISION_LOG_LINGER_MS/ });
  t.throws(() => loadConfig({ DECISION_LOG_THREAD: 'maybe' }), { message: /DECISION_LOG_THREAD/ });
  t.equal(loadConfig({ FACT_CACHE_MAX_ENTRIES: '0' }).factCacheMaxEntries, 0, 'the cache can be switched off');
  t.equal(loadConfig({ CLEARANCE_WORKERS: '3', DATABASE_URL: 'postgres://h/db' }).workers, 3);
  t.ok(loadConfig({ CLEARANCE_WORKERS: 'auto', DATABASE_URL: 'postgres://h/db' }).workers >= 1, 'auto: one per core');
  t.equal(loadConfig({ PGLITE_SHARED_BUFFERS: '16MB' }).pgliteSharedBuffers, '16MB');
});

t.test('when no OpenTelemetry variable is set, then tracing is off', async (t) => {
  t.same(loadConfig({}).tracing, {
    enabled: false,
    endpoint: 'http://localhost:4318/v1/traces',
    sampler: 'parentbased_always_on',
    ratio: 1,
    serviceName: 'clearance',
  });
});

t.test('when an OTLP endpoint is named, then tracing is on and spans go to its /v1/traces', async (t) => {
  const tracing = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing;
  t.equal(tracing.enabled, true);
  t.equal(tracing.endpoint, 'http://collector:4318/v1/traces');
  const traces = loadConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp/traces',
  }).tracing;
  t.equal(traces.endpoint, 'https://traces.example/otlp/traces', 'the traces endpoint is used as it is, and wins');
  t.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).tracing.enabled, true, 'otlp alone: the default endpoint');
  t.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'OTLP' }).tracing.endpoint, 'http://localhost:4318/v1/traces');
});

t.test('when tracing is switched off explicitly, then an endpoint does not switch it on', async (t) => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
  t.equal(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing.enabled, false);
  t.equal(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing.enabled, false);
});

t.test('when a sampler, its ratio and a service name are set, then they are parsed', async (t) => {
  const tracing = loadConfig({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_TRACES_SAMPLER: 'ParentBased_TraceIdRatio',
    OTEL_TRACES_SAMPLER_ARG: '0.01',
    OTEL_SERVICE_NAME: 'clearance-eu',
  }).tracing;
  t.equal(tracing.sampler, 'parentbased_traceidratio');
  t.equal(tracing.ratio, 0.01);
  t.equal(tracing.serviceName, 'clearance-eu');
  for (const sampler of ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off'])
    t.equal(loadConfig({ OTEL_TRACES_SAMPLER: sampler }).tracing.sampler, sampler);
  t.equal(loadConfig({ OTEL_TRACES_SAMPLER_ARG: '1' }).tracing.ratio, 1);
  t.equal(loadConfig({ OTEL_TRACES_SAMPLER_ARG: '0' }).tracing.ratio, 0);
  t.equal(loadConfig({ OTEL_TRACES_SAMPLER_ARG: '.5' }).tracing.ratio, 0.5);
});
