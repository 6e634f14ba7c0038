// A user's links as the fact cache holds them (service/domain/link-set.ts): the same answers as a
// Set of the same ids, whatever the ids look like and however many there are.
import t from 'tap';
import { LinkSet } from '../../service/domain/link-set.ts';

/** Every id of probe, asked of both: the ids a LinkSet and a Set of ids disagree on. */
function disagreements(ids: string[], probe: string[]): string[] {
  const links = LinkSet.of(ids);
  const set = new Set(ids);
  return probe.filter((id) => links.has(id) !== set.has(id));
}

/** Every ordering of word's letters (distinct letters: n! ids of n letters). */
function permutations(word: string): string[] {
  if (word.length <= 1) return [word];
  return [...word].flatMap((letter, i) =>
    permutations(word.slice(0, i) + word.slice(i + 1)).map((rest) => letter + rest),
  );
}

t.test(
  'given ids that are prefixes, extensions and near misses of each other, then has answers as a Set does',
  async (t) => {
    const ids = ['c1', 'c10', 'c100', 'c2', 'x', 'client-00042', 'ÿ', 'é', '日本', '😀', 'a b', 'a\u0000b'];
    const probe = [
      ...ids,
      'c',
      'c1 ',
      'c11',
      'c1000',
      '',
      'C1',
      'client-0004',
      'client-000420',
      'e\u0301',
      '日',
      '😀😀',
      'ab',
    ];
    t.same(disagreements(ids, probe), []);
    t.equal(LinkSet.of(ids).size, ids.length);
    t.same([...LinkSet.of(ids)], ids, 'it gives back the ids in the order given');
  },
);

t.test('given no ids, then it holds nothing, not even the empty id', async (t) => {
  const links = LinkSet.of([]);
  t.equal(links.size, 0);
  t.notOk(links.has(''));
  t.notOk(links.has('c1'));
  t.same([...links], []);
});

t.test('given the empty id among others, then it is held like any other', async (t) => {
  t.same(disagreements(['', 'a', 'b'], ['', 'a', 'b', 'c']), []);
  t.same([...LinkSet.of(['a', '', 'b'])], ['a', '', 'b']);
});

t.test('given an id more than once, then it is held once and the others are unchanged', async (t) => {
  const links = LinkSet.of(['a', 'b', 'a', 'ab', 'b', 'ba']);
  t.equal(links.size, 4);
  t.same([...links], ['a', 'b', 'ab', 'ba']);
  t.same(disagreements(['a', 'b', 'a', 'ab', 'b', 'ba'], ['a', 'b', 'ab', 'ba', 'aa', 'bb', 'aba']), []);
});

t.test('given 10,000 ids, then every one is found and none of 10,000 others is', async (t) => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `p0001-c${String(i * 2).padStart(6, '0')}`);
  const others = Array.from({ length: 10_000 }, (_, i) => `p0001-c${String(i * 2 + 1).padStart(6, '0')}`);
  const links = LinkSet.of(ids);
  t.equal(links.size, 10_000);
  t.equal(ids.filter((id) => !links.has(id)).length, 0, 'every id is found');
  t.equal(others.filter((id) => links.has(id)).length, 0, 'no other id is');
  t.same([...links], ids);
});

t.test('given ids of the same length and letters (anagrams), then each is told from the others', async (t) => {
  // Equal in length and in their code units, so only the text itself tells them apart, and with
  // 720 of them some share a slot: probing goes on to the right one.
  const ids = permutations('abcdef');
  const held = ids.filter((_, i) => i % 2 === 0);
  t.same(disagreements(held, ids), []);
});

t.test('given ids whose text ends at 65,535 code units, and one past it, then both are held in full', async (t) => {
  // Up to 65,535 the ends fit 16 bits and the table is a Uint16Array; one more takes 32 bits.
  const ids = Array.from({ length: 13_107 }, (_, i) => i.toString(36).padStart(5, '0'));
  t.equal(ids.join('').length, 65_535);
  for (const held of [ids, [...ids, 'z']]) {
    const links = LinkSet.of(held);
    t.equal(links.size, held.length);
    t.equal(held.filter((id) => !links.has(id)).length, 0, `every one of ${held.length} ids is found`);
    t.notOk(links.has('zz') || links.has('0000') || links.has('000000'), 'no other is');
    t.same([...links], held);
  }
});

// A lookup walks from the slot the hash gives to the id's own (linear probing): with ids spread
// evenly over a table at most half full the walk is short, which results alone do not show (a
// hash sending every id to one slot answers the same, a walk of the whole table a lookup). The
// hash is seeded per process, so the bound is far above what a spreading hash gives (at most 22
// over 250 seeds for each shape below) and far below what a failing one does (near the count).
const LONGEST_WALK = 40;

t.test('given ids of common shapes, then no held id is further than a short walk from its slot', async (t) => {
  const shapes: Record<string, string[]> = {
    'numbered ids': Array.from({ length: 10_000 }, (_, i) => `client-${String(i).padStart(5, '0')}`),
    'UUIDs differing in their last digits': Array.from(
      { length: 3_000 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    ),
    'two letters': Array.from({ length: 676 }, (_, i) => String.fromCharCode(97 + (i % 26), 97 + Math.floor(i / 26))),
    'anagrams of one word': permutations('abcdefg'),
  };
  for (const [shape, ids] of Object.entries(shapes)) {
    const links = LinkSet.of(ids);
    t.equal(links.size, ids.length, `${shape}: all held`);
    const walk = links.longestProbe();
    t.ok(walk <= LONGEST_WALK, `${shape}: longest walk ${walk} of ${ids.length} ids`);
  }
});
