// The fact cache's bound: never more than max entries (or weight, where entries are weighed),
// recently used ones kept, deletes and clears seen in both generations.
import t from 'tap';
import { Lru } from '../../service/domain/lru.ts';

t.test('when more keys than max are stored, then it holds at most max and keeps the newest', async (t) => {
  const lru = new Lru<number, string>(100);
  for (let i = 0; i < 1000; i++) {
    lru.set(i, `v${i}`);
    t.ok(lru.size <= 100, `size ${lru.size} after ${i + 1}`);
  }
  t.equal(lru.get(999), 'v999');
  t.equal(lru.get(950), 'v950');
  t.equal(lru.get(0), undefined, 'the oldest is gone');
});

t.test('when an entry is read often, then it outlives entries stored after it', async (t) => {
  const lru = new Lru<string, number>(10);
  lru.set('hot', 1);
  for (let i = 0; i < 100; i++) {
    lru.set(`cold${i}`, i);
    t.equal(lru.get('hot'), 1, `still cached after ${i + 1} newer entries`);
  }
  t.equal(lru.get('cold0'), undefined);
});

t.test('when an entry is deleted or everything is cleared, then it is gone from either generation', async (t) => {
  const lru = new Lru<string, number>(4);
  lru.set('a', 1);
  lru.set('b', 2);
  lru.set('c', 3);
  lru.set('d', 4);
  lru.delete('a');
  lru.delete('d');
  t.equal(lru.get('a'), undefined, 'deleted from the old generation');
  t.equal(lru.get('d'), undefined, 'deleted from the young generation');
  t.equal(lru.get('b'), 2);
  lru.set('b', 20);
  t.equal(lru.get('b'), 20, 'a set replaces the value wherever it was');
  lru.clear();
  t.equal(lru.size, 0);
  t.equal(lru.get('c'), undefined);
});

t.test('when max is 0, then nothing is kept', async (t) => {
  const lru = new Lru<string, number>(0);
  lru.set('a', 1);
  t.equal(lru.get('a'), undefined);
  t.equal(lru.size, 0);
});

t.test('when entries are weighed, then the weights held stay within max, and the newest are kept', async (t) => {
  const lru = new Lru<number, number[]>(100, (list) => list.length);
  const sizes = [1, 30, 7, 12, 25, 3, 40, 9, 18, 2, 33, 5];
  for (let i = 0; i < 120; i++) {
    lru.set(
      i,
      Array.from({ length: sizes[i % sizes.length] as number }, () => i),
    );
    t.ok(lru.weight <= 100, `weight ${lru.weight} after ${i + 1}`);
  }
  t.same(lru.get(119), Array(5).fill(119), 'the newest is kept');
  t.equal(lru.get(0), undefined, 'the oldest is gone');
  t.ok(lru.size < 100 / 2, `fewer entries than an unweighed bound would keep (${lru.size})`);
});

t.test(
  'when a heavy entry comes in, then lighter ones make room for it, and deletes give their weight back',
  async (t) => {
    const lru = new Lru<string, ReadonlySet<number>>(20, (set) => set.size);
    for (const key of ['a', 'b', 'c']) lru.set(key, new Set([1, 2, 3]));
    t.equal(lru.weight, 9);
    lru.set('heavy', new Set(Array.from({ length: 10 }, (_, i) => i)));
    t.ok(lru.weight <= 20, `weight ${lru.weight}`);
    t.equal(lru.get('heavy')?.size, 10);
    lru.delete('heavy');
    t.ok(lru.weight <= 10, `weight ${lru.weight} once it is deleted`);
    lru.clear();
    t.equal(lru.weight, 0);
  },
);

t.test(
  'when an entry weighs more than half of max, then it is not kept, and the value it replaces is gone',
  async (t) => {
    const lru = new Lru<string, number[]>(20, (list) => list.length);
    lru.set('list', [1, 2]);
    lru.set('list', Array(11).fill(0));
    t.equal(lru.get('list'), undefined, 'neither the heavy value nor the one it replaced');
    lru.set('fits', Array(10).fill(0));
    t.equal(lru.get('fits')?.length, 10);
  },
);

t.test('when entries weigh nothing (an empty set), then each still counts one', async (t) => {
  const lru = new Lru<number, ReadonlySet<string>>(10, (set) => set.size);
  for (let i = 0; i < 100; i++) lru.set(i, new Set());
  t.ok(lru.size <= 10, `size ${lru.size}`);
  t.equal(lru.weight, lru.size);
});
