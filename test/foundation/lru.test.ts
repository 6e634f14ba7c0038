// The fact cache's bound: never more than max entries, recently used ones kept, deletes and
// clears seen in both generations.
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
