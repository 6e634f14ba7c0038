// Applying the log policy's masks: JSON pointers into {input, result}, removed or replaced, on a
// copy; a pointer to nothing is skipped and not reported.
import t from 'tap';
import { applyLogMasks, parsePointer } from '../../service/domain/log-masks.ts';

const parts = () => ({
  input: { account: { id: 'a1', name: 'Jo' }, resources: [{ id: 'c1' }, { id: 'c2' }], 'a/b': { '~x': 1 } },
  result: { allow: true, reasons: [] },
});

t.test('when a path is removed, then the copy lacks it and the original keeps it', async (t) => {
  const original = parts();
  const { parts: masked, applied } = applyLogMasks(original, [{ op: 'remove', path: '/input/account/name' }]);
  t.same(masked.input, { ...original.input, account: { id: 'a1' } });
  t.same(applied, [{ op: 'remove', path: '/input/account/name' }]);
  t.equal(original.input.account.name, 'Jo', 'the original is untouched');
  t.equal(
    (masked.input as typeof original.input).resources,
    original.input.resources,
    'unmasked parts are shared, not copied',
  );
});

t.test('when a value is upserted, then it replaces the old one or is added to its object', async (t) => {
  const { parts: masked, applied } = applyLogMasks(parts(), [
    { op: 'upsert', path: '/input/account/name', value: '***' },
    { op: 'upsert', path: '/result/note', value: 'masked' },
  ]);
  t.same((masked.input as { account: object }).account, { id: 'a1', name: '***' });
  t.same(masked.result, { allow: true, reasons: [], note: 'masked' });
  t.equal(applied.length, 2);
});

t.test('when paths go through arrays or need escaping, then they are followed as RFC 6901 says', async (t) => {
  t.same(parsePointer('/input/a~1b/~0x'), ['input', 'a/b', '~x']);
  const { parts: masked, applied } = applyLogMasks(parts(), [
    { op: 'remove', path: '/input/resources/0' },
    { op: 'remove', path: '/input/a~1b/~0x' },
  ]);
  t.same((masked.input as { resources: object[] }).resources, [{ id: 'c2' }]);
  t.same((masked.input as Record<string, object>)['a/b'], {});
  t.equal(applied.length, 2);
});

t.test('when a path leads nowhere, then nothing changes and it is not reported', async (t) => {
  const original = parts();
  const { parts: masked, applied } = applyLogMasks(original, [
    { op: 'remove', path: '/input/subject/name' },
    { op: 'remove', path: '/input/resources/7' },
    { op: 'upsert', path: '/input/resources/9', value: 1 },
    { op: 'upsert', path: '/input/nowhere/deep', value: 1 },
    { op: 'remove', path: '/elsewhere/x' },
  ]);
  t.same(masked, original);
  t.same(applied, []);
});

t.test('when the whole input is removed, then the masked entry has none (the log stores null)', async (t) => {
  const { parts: masked } = applyLogMasks(parts(), [{ op: 'remove', path: '/input' }]);
  t.equal(masked.input, undefined);
});
