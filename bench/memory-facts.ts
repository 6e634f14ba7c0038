// `make bench-memory BENCH_ARGS=facts`: what the fact cache costs per fact, in this process. A fact
// store over the benchmark data set is filled one kind of fact at a time, with 35,000 facts of the
// kind or all it has (within one generation of the cache at the default bound, so every fact read
// stays cached), and the JS heap is measured after a full GC before and after each kind.
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openDatabase } from '../service/data/connect.ts';
import { FactStore } from '../service/domain/facts.ts';
import { ensureDataset } from './dataset.ts';
import { mb } from './resident.ts';
import { benchDatabaseUrl, ensureDatabase, mapLimit } from './setup.ts';

/** One kind of fact: its keys, how it is read, and how many facts a value counts as (as the cache weighs it). */
interface Fill {
  name: string;
  keys: string[];
  read: (store: FactStore, key: string) => Promise<unknown>;
  weigh: ((value: unknown) => number) | null;
}

const FACTS_PER_KIND = 35_000;

export async function factsPerMb(): Promise<string> {
  setFlagsFromString('--expose-gc');
  // Bytecode not run for a while is flushed by a later collection: it would count against the
  // kind measured then.
  setFlagsFromString('--no-flush-bytecode');
  const gc = runInNewContext('gc') as () => void;
  // What the reads leave behind (results, sockets' buffers) goes once their promises are settled.
  const settled = async () => {
    await sleep(500);
    gc();
    gc();
    // A typed array over 64 bytes keeps its elements outside the JS heap (the links' tables).
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  await ensureDatabase(benchDatabaseUrl);
  const handle = await openDatabase({ databaseUrl: benchDatabaseUrl, dataDir: null });
  const store = new FactStore(handle, 100_000);
  try {
    await ensureDataset(handle.migrationDb);
    store.start();
    while (!store.stats.enabled) await sleep(50);
    const ids = async (table: 'users' | 'clients' | 'items' | 'accounts') =>
      (await handle.db.selectFrom(table).select('id').orderBy('id').execute()).map((row) => row.id);
    const [users, accounts, clients, items] = [
      await ids('users'),
      await ids('accounts'),
      await ids('clients'),
      await ids('items'),
    ];
    const size = (value: unknown) => (value as ReadonlySet<string>).size;
    const length = (value: unknown) => (value as unknown[]).length;
    const fills: Fill[] = [
      { name: 'user', keys: users, read: (s, k) => s.user(k), weigh: null },
      { name: 'account', keys: accounts, read: (s, k) => s.account(k), weigh: null },
      { name: 'client', keys: clients, read: (s, k) => s.client(k), weigh: null },
      { name: 'item', keys: items, read: (s, k) => s.item(k), weigh: null },
      { name: 'allocations', keys: users, read: (s, k) => s.allocations(k), weigh: size },
      { name: 'ledgerAccess', keys: users, read: (s, k) => s.ledgerAccess(k), weigh: size },
      { name: 'accountClients', keys: accounts, read: (s, k) => s.accountClients(k), weigh: length },
      { name: 'accountUsers', keys: accounts, read: (s, k) => s.accountUsers(k), weigh: length },
      { name: 'accountItems', keys: accounts, read: (s, k) => s.accountItems(k), weigh: length },
    ];
    // Every read once first, then dropped: its code compiled before any kind is measured.
    for (const fill of fills) await mapLimit(fill.keys.slice(0, 50), 8, (key) => fill.read(store, key));
    store.invalidate('*');

    const line = (name: string, entries: string, facts: number, bytes: number) =>
      `${name.padEnd(16)} ${entries.padStart(8)} ${String(facts).padStart(8)} ${mb(bytes)} ${String(Math.round(bytes / facts)).padStart(7)} ${String(Math.round(facts / (bytes / 1048576))).padStart(10)}`;
    const lines = [
      `${'kind'.padEnd(16)} ${'entries'.padStart(8)} ${'facts'.padStart(8)} ${'MiB'.padStart(7)} ${'B/fact'.padStart(7)} ${'facts/MiB'.padStart(10)}`,
    ];
    let allFacts = 0;
    let allBytes = 0;
    for (const fill of fills) {
      const before = await settled();
      // Lists one at a time, so that the last cannot overshoot the count by much.
      const batch = fill.weigh === null ? 256 : 1;
      let facts = 0;
      let entries = 0;
      for (let at = 0; at < fill.keys.length && facts < FACTS_PER_KIND; at += batch) {
        // Each key a fresh string, as one parsed from a request is: the cache holds it, not the list.
        const values = await mapLimit(fill.keys.slice(at, at + batch), 8, (key) =>
          fill.read(store, JSON.parse(JSON.stringify(key)) as string),
        );
        for (const value of values) facts += value === null || fill.weigh === null ? 1 : Math.max(1, fill.weigh(value));
        entries += values.length;
      }
      const bytes = (await settled()) - before;
      allFacts += facts;
      allBytes += bytes;
      lines.push(line(fill.name, String(entries), facts, bytes));
    }
    lines.push(line('all', '', allFacts, allBytes));
    return lines.join('\n');
  } finally {
    await store.stop();
    await handle.close();
  }
}
