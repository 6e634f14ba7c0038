// Percentiles from the statistics' histograms (bins 5% wide) land within 5% of the exact,
// interpolated percentile_cont of the same values, over spreads of every shape.
import t from 'tap';
import { histogramPercentiles, PERCENTILES } from '../../service/data/decision-log-stats.ts';

/** Bins as the database makes them: 0 below 1 µs, else 1 + floor(ln(us) / ln(1.05)), at most 400. */
const bin = (us: number) => (us < 1 ? 0 : Math.min(400, 1 + Math.floor(Math.log(us) / Math.log(1.05))));

function exact(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (rank - low);
}

function histogram(values: number[]) {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(bin(value), (counts.get(bin(value)) ?? 0) + 1);
  return [...counts].map(([b, n]) => ({ bin: b, n }));
}

let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

const spreads: Array<[string, () => number]> = [
  ['uniform 10–1,000 µs', () => 10 + random() * 990],
  ['log-normal around 200 µs', () => Math.exp(Math.log(200) + 0.8 * (random() + random() + random() - 1.5))],
  ['a long tail', () => (random() < 0.97 ? 50 + random() * 50 : 5000 + random() * 100_000)],
  ['all alike', () => 123.4],
];

for (const [name, draw] of spreads) {
  t.test(`when the times are ${name}, then each percentile is within 5% of the exact one`, async (t) => {
    for (const size of [1, 7, 1000, 50_000]) {
      const values = Array.from({ length: size }, draw);
      const estimated = histogramPercentiles(histogram(values));
      PERCENTILES.forEach((p, i) => {
        const want = exact(values, p);
        const got = estimated?.[i] as number;
        t.ok(
          Math.abs(got - want) <= 0.05 * want,
          `${size} values, p${p * 100}: ${got.toFixed(2)} ~ ${want.toFixed(2)}`,
        );
      });
    }
  });
}

t.test('when nothing was timed, then there are no percentiles', async (t) => {
  t.equal(histogramPercentiles([]), null);
  t.equal(histogramPercentiles([{ bin: 12, n: 0 }]), null);
});

t.test('when times are below a microsecond, then they read as 0', async (t) => {
  t.same(histogramPercentiles([{ bin: 0, n: 5 }]), [0, 0, 0]);
});
