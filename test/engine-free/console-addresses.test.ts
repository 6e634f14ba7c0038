// The console's reading of its own address (console/src/address.ts) and the ids a page checks
// before it asks the API (console/src/ids.ts).
import t from 'tap';
import { routeOf } from '../../console/src/address.ts';
import { isDecisionId, isId, isRevision } from '../../console/src/ids.ts';

t.test('an address is read into its decoded parts and its query', async (t) => {
  const route = routeOf('#/decisions/a%20b?subject_id=sam&allow=false');
  t.same(route.parts, ['decisions', 'a b']);
  t.equal(route.query.get('subject_id'), 'sam');
  t.equal(route.unreadable, null);
  t.same(routeOf('').parts, [], 'no fragment: no parts');
});

t.test('a part that is not valid %-encoding names no page, and reading it throws nothing', async (t) => {
  for (const fragment of ['#/decisions/%', '#/decisions/%E0%A4%A', '#/%zz']) {
    const route = routeOf(fragment);
    t.match(route.unreadable, /not valid %-encoding/, fragment);
    t.same(route.parts, [], 'and it has no parts');
  }
});

t.test('a dot segment, written or encoded, names no page', async (t) => {
  for (const fragment of ['#/decisions/..', '#/policies/.', '#/decisions/%2e%2E', '#/../v1', '#/clients/a/..']) {
    t.match(routeOf(fragment).unreadable, /has a part “\.\.?”/, fragment);
  }
  t.equal(routeOf('#/clients/a.b/c..d').unreadable, null, 'dots inside a part are fine');
});

t.test('ids are checked as the API defines them', async (t) => {
  t.ok(isDecisionId('0b6e0f5e-4a4e-4f7e-9a55-3c2a7d0f1e2b'));
  t.ok(isDecisionId('0B6E0F5E-4A4E-4F7E-9A55-3C2A7D0F1E2B'), 'in either case');
  for (const bad of [
    '',
    '..',
    'not-a-uuid',
    '0b6e0f5e-4a4e-4f7e-9a55-3c2a7d0f1e2b/..',
    '0b6e0f5e4a4e4f7e9a553c2a7d0f1e2b',
  ])
    t.notOk(isDecisionId(bad), `not a decision id: ${bad}`);
  t.ok(isRevision('0123456789abcdef0123456789abcdef'));
  for (const bad of [
    '',
    '..',
    '0123456789ABCDEF0123456789ABCDEF',
    '0123456789abcdef',
    'g123456789abcdef0123456789abcdef',
  ])
    t.notOk(isRevision(bad), `not a revision: ${bad}`);
  for (const good of ['acme', 'a.b', 'practice:42', 'x_y-z', '...', 'a'.repeat(128)]) t.ok(isId(good), good);
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'a%2F', 'a'.repeat(129)]) t.notOk(isId(bad), `not an id: ${bad}`);
});
