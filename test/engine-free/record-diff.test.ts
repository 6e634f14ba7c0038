// The console's before/after of an audit entry: records flattened to dotted paths, and each field
// marked added, removed, changed or unchanged.
import t from 'tap';
import { countChanges, diffRecords, fieldText, flatten, sameValue } from '../../console/src/record-changes.ts';

const user = {
  id: 'sam',
  name: 'Sam',
  role: 'standard',
  client_access_mode: 'selected',
  permissions: { add_clients: false, publishing: 'none' },
  xpm_staff_id: null,
};

t.test('when a record has nested objects, then their fields are dotted paths in the record order', async (t) => {
  t.same(
    [...flatten(user)],
    [
      ['id', 'sam'],
      ['name', 'Sam'],
      ['role', 'standard'],
      ['client_access_mode', 'selected'],
      ['permissions.add_clients', false],
      ['permissions.publishing', 'none'],
      ['xpm_staff_id', null],
    ],
  );
  t.same([...flatten({ a: { b: { c: 1 } } })], [['a.b.c', 1]], 'deeper nesting joins every level');
});

t.test('when a value is an array, then scalars stay one value and objects are walked by index', async (t) => {
  t.same([...flatten({ scopes: ['admin', 'logs'] })], [['scopes', ['admin', 'logs']]]);
  t.same(
    [...flatten({ reasons: [{ code: 'x' }, { code: 'y' }] })],
    [
      ['reasons[0].code', 'x'],
      ['reasons[1].code', 'y'],
    ],
  );
});

t.test('when an object or array is empty, then it is a field of its own', async (t) => {
  t.same(
    [...flatten({ attributes: {}, ids: [] })],
    [
      ['attributes', {}],
      ['ids', []],
    ],
  );
});

t.test('when a key is not a plain name, then it is quoted so that paths cannot collide', async (t) => {
  t.same(
    [...flatten({ 'a.b': 1, a: { b: 2 }, '': 3 })],
    [
      ['["a.b"]', 1],
      ['a.b', 2],
      ['[""]', 3],
    ],
  );
});

t.test('when a side is null, then it has no fields', async (t) => {
  t.equal(flatten(null).size, 0);
  t.equal(flatten(undefined).size, 0);
});

t.test('when a record is created, then every field is added', async (t) => {
  const rows = diffRecords(null, { user_id: 'sam', client_id: 'globex' });
  t.same(rows, [
    { path: 'user_id', before: undefined, after: 'sam', change: 'added' },
    { path: 'client_id', before: undefined, after: 'globex', change: 'added' },
  ]);
});

t.test('when a record is deleted, then every field is removed', async (t) => {
  const rows = diffRecords({ user_id: 'sam', client_id: 'globex' }, null);
  t.same(
    rows.map((row) => [row.path, row.change, row.before, row.after]),
    [
      ['user_id', 'removed', 'sam', undefined],
      ['client_id', 'removed', 'globex', undefined],
    ],
  );
});

t.test('when a record is updated, then changed nested fields are marked and the others kept', async (t) => {
  const after = { ...user, role: 'client_admin', permissions: { add_clients: true, publishing: 'none' } };
  const rows = diffRecords(user, after);
  t.same(
    rows.map((row) => [row.path, row.change]),
    [
      ['id', 'unchanged'],
      ['name', 'unchanged'],
      ['role', 'changed'],
      ['client_access_mode', 'unchanged'],
      ['permissions.add_clients', 'changed'],
      ['permissions.publishing', 'unchanged'],
      ['xpm_staff_id', 'unchanged'],
    ],
  );
  const role = rows.find((row) => row.path === 'role');
  t.equal(role?.before, 'standard');
  t.equal(role?.after, 'client_admin');
  t.same(countChanges(rows), { added: 0, removed: 0, changed: 2, unchanged: 5 });
});

t.test('when fields come and go, then removed ones keep their place and added ones follow', async (t) => {
  const rows = diffRecords({ a: 1, b: 2, c: 3 }, { a: 1, c: 3, d: 4 });
  t.same(
    rows.map((row) => [row.path, row.change]),
    [
      ['a', 'unchanged'],
      ['b', 'removed'],
      ['c', 'unchanged'],
      ['d', 'added'],
    ],
  );
});

t.test('when a field turns from null into an object, then the null is removed and the leaves added', async (t) => {
  const rows = diffRecords({ shadow: null }, { shadow: { revision: 'r1' } });
  t.same(
    rows.map((row) => [row.path, row.change]),
    [
      ['shadow', 'removed'],
      ['shadow.revision', 'added'],
    ],
  );
});

t.test('when a field is present on both sides as null, then it is unchanged, not absent', async (t) => {
  const rows = diffRecords({ xpm_staff_id: null }, { xpm_staff_id: null });
  t.same(rows, [{ path: 'xpm_staff_id', before: null, after: null, change: 'unchanged' }]);
});

t.test('when arrays of scalars differ in order or content, then the field is changed', async (t) => {
  t.ok(sameValue(['a', 'b'], ['a', 'b']));
  t.notOk(sameValue(['a', 'b'], ['b', 'a']));
  t.notOk(sameValue(null, undefined), 'null is a value; undefined is absence');
  t.same(
    diffRecords({ ids: ['a'] }, { ids: ['a', 'b'] }).map((row) => row.change),
    ['changed'],
  );
});

t.test('when a value is shown, then strings are as written and the rest as JSON', async (t) => {
  t.equal(fieldText('<img src=x onerror=alert(1)>'), '<img src=x onerror=alert(1)>', 'markup stays text');
  t.equal(fieldText(''), '""', 'the empty string is visible');
  t.equal(fieldText(null), 'null');
  t.equal(fieldText(false), 'false');
  t.equal(fieldText(['admin', 'logs']), '["admin","logs"]');
  t.equal(fieldText({}), '{}');
  t.equal(fieldText(undefined), '', 'an absent field shows nothing');
});
