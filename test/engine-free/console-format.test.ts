// How the console writes an instant into a datetime-local field (console/src/format.ts).
import t from 'tap';
import { localOf } from '../../console/src/format.ts';

t.test('a datetime-local value has a year of four digits', async (t) => {
  const at = new Date(2026, 11, 3, 4, 5, 6);
  t.equal(localOf(at.toISOString()), '2026-12-03T04:05:06');
  at.setFullYear(999);
  t.equal(localOf(at.toISOString()), '0999-12-03T04:05:06', 'a year before 1000 is padded');
  at.setFullYear(50);
  t.equal(localOf(at.toISOString()), '0050-12-03T04:05:06');
  at.setFullYear(0);
  t.equal(localOf(at.toISOString()), '', 'a year before 1 has no datetime-local value');
  t.equal(localOf(''), '');
  t.equal(localOf('not a time'), '');
});
