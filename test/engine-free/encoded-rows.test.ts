// An entry encoded for the decision log's writer thread and decoded there gives the row the
// serving thread would build itself (masks, NULs made visible, refusals, no input), and an input
// that is not JSON still gives a row, kept without its input, rather than failing the batch.
import t from 'tap';
import { decodedRow, type DecisionLogEntry, encodedEntry, entryRow } from '../../service/domain/decision-log/rows.ts';
import type { LogMask } from '../../service/policy/answers.ts';
import { logEntry } from '../helpers/decision-log.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const masks = (): LogMask[] => [{ op: 'remove', path: '/input/account/name' }];
/** The entry as the decision path hands it over: its input with the JSON text the policy read. */
const withJson = (entry: DecisionLogEntry): DecisionLogEntry => ({ ...entry, inputJson: JSON.stringify(entry.input) });

t.test('given entries of every kind, when encoded and decoded, then the rows are those built in place', async (t) => {
  const entries = [
    withJson(logEntry()),
    withJson(logEntry({ masks: [] })),
    withJson(logEntry({ input: { resource: { attributes: { 'k\u0000ey': 'v\u0000' } }, account: { name: 'x' } } })),
    logEntry({ input: null, error: { code: 'context_unavailable', message: 'down' }, allow: false }),
    withJson(logEntry({ masks: [{ op: 'upsert', path: '/input/subject/id', value: 'someone' }] })),
  ];
  for (const entry of entries) {
    const encoded = encodedEntry(entry, masks, quiet);
    t.not(encoded, null, 'encoded where its input has JSON text, or none');
    const crossed = structuredClone(encoded) as NonNullable<typeof encoded>;
    t.same(decodedRow(crossed, quiet), entryRow(entry, masks, quiet));
  }
});

t.test('given an entry whose input has no JSON text yet (a list), then it is not encoded', async (t) => {
  t.equal(encodedEntry(logEntry(), masks, quiet), null);
});

t.test('given masks that cannot be known, then the encoded entry keeps no input', async (t) => {
  const errors: string[] = [];
  const log = { ...quiet, error: (_: object, msg: string) => errors.push(msg) };
  const failing = (): LogMask[] => {
    throw new Error('mask policy failed');
  };
  const entry = withJson(logEntry());
  const row = decodedRow(encodedEntry(entry, failing, log) as NonNullable<ReturnType<typeof encodedEntry>>, quiet);
  t.equal(row.input, null);
  t.same(JSON.parse(row.masked as string), [{ op: 'remove', path: '/input' }]);
  t.same(row, entryRow(entry, failing, quiet));
  t.match(errors, [/masks unavailable/]);
});

t.test('given an encoded input that is not JSON, then the row is kept without its input, saying why', async (t) => {
  const encoded = encodedEntry(withJson(logEntry()), masks, quiet) as NonNullable<ReturnType<typeof encodedEntry>>;
  const row = decodedRow({ ...encoded, inputJson: '{"cut short' }, quiet);
  t.equal(row.input, null);
  t.equal(JSON.parse(row.error as string).code, 'log_entry_unstorable');
  t.equal(row.decision_id, encoded.decisionId);
});
