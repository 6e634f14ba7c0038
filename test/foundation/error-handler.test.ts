// The one error handler: what a route throws reaches the caller in the one error shape. A fault of
// ours is a 500 that tells nothing of its cause (that goes to the log); what the database refused
// is the caller's to retry or fix, with its own status.
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { buildApp, serializeError } from '../../service/app.ts';
import { testConfig } from '../helpers/config.ts';
import { databaseForApp } from '../helpers/database.ts';

type LogLine = { level: number; msg: string; err?: { message: string; stack: string } };

/** The service as built, with one more route that throws what the test gives it, and its log. */
async function appThrowing(t: Test, thrown: () => Error) {
  const log: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) log.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const app = await buildApp({
    config: testConfig(),
    database: await databaseForApp(t),
    logger: { level: 'info', stream, serializers: { err: serializeError } },
    processMetrics: false,
  });
  // Like fastify/demo's error-handler test: a route of the test's own, added before the app is ready.
  app.get('/test/throws', async () => {
    throw thrown();
  });
  t.teardown(() => app.close());
  await app.ready();
  return { app, log };
}

/** An error as the pg driver makes it: a message naming what the database saw, and its SQLSTATE. */
const databaseError = (code: string, message: string) => Object.assign(new Error(message), { code });

t.test('when a route throws an unexpected error, then 500 internal_error; its cause is in the log only', async (t) => {
  const secret = 'relation "private_table" does not exist at /srv/clearance/query.ts';
  const { app, log } = await appThrowing(t, () => databaseError('42P01', secret));
  const response = await app.inject({ method: 'GET', url: '/test/throws' });
  t.equal(response.statusCode, 500);
  t.same(response.json(), { error: { code: 'internal_error', message: 'internal error; see the service log' } });
  t.notMatch(response.body, /private_table|\/srv\/|\bat\s|\.ts/, 'nothing of the cause in the answer');
  const logged = log.find((line) => line.msg === 'unhandled error');
  t.ok(logged, 'logged');
  t.equal(logged?.level, 50, 'as an error');
  t.equal(logged?.err?.message, secret);
  t.match(logged?.err?.stack, /error-handler\.test\.ts/, 'with its stack');
});

t.test('when the database refuses or is lost, then its SQLSTATE decides the status, logged as a warning', async (t) => {
  const cases = [
    ['23505', 'duplicate key value violates unique constraint "users_pkey"', 409, 'conflict'],
    ['23503', 'insert or update on table "allocations" violates foreign key constraint', 409, 'conflict'],
    ['40001', 'could not serialize access due to concurrent update', 409, 'conflict'],
    ['23514', 'new row for relation "users" violates check constraint', 400, 'constraint_violation'],
    ['22001', 'value too long for type character varying(128)', 400, 'constraint_violation'],
    ['08006', 'connection failure', 503, 'database_unavailable'],
    ['57P01', 'terminating connection due to administrator command', 503, 'database_unavailable'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432', 503, 'database_unavailable'],
  ] as const;
  let next: Error = new Error('unset');
  const { app, log } = await appThrowing(t, () => next);
  for (const [code, message, status, errorCode] of cases) {
    next = databaseError(code, message);
    const response = await app.inject({ method: 'GET', url: '/test/throws' });
    t.equal(response.statusCode, status, code);
    t.equal(response.json().error.code, errorCode, code);
    t.notMatch(response.body, /\bat\s|\.ts/, `${code}: no stack in the answer`);
  }
  const warnings = log.filter((line) => line.msg === 'database error' && line.level === 40);
  t.equal(warnings.length, cases.length, 'each logged as a warning');
  t.equal(log.filter((line) => line.msg === 'unhandled error').length, 0, 'none a fault of ours');
});
