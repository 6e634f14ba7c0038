// A frozen oracle for policy refactors: records what the compiled policy answers for every input
// of the differential corpus (single decisions, and decision lists built from the corpus), and
// later compares the current build against that record. The rules must not change in a refactor
// that is only about speed, so any difference at all is reported.
//
// A list is recorded as one expected result per resource of {action, subject, account,
// resources: [...]}: what the single decision of that resource is. It is checked through
// clearance/decisions, which takes clients as rows: every resource a row can stand for (a found
// client resource with no attributes and no other field) is checked, in lists of those rows.
//
//   node test/differential/golden.ts record [file]   (default .build/golden/decisions.json)
//   node test/differential/golden.ts check [file]
//
// The record is not committed: it is made from the build before a change and checked after it.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ClientListInput, ClientTuple, PolicyResult } from '../../service/policy/answers.ts';
import { PolicyEngine } from '../../service/policy/engine.ts';
import { loadSdkPolicy } from '../helpers/sdk-policy.ts';
import { clientRow } from './client-rows.ts';
import { generateCorpus, type Entry } from './corpus.ts';
import { isJsonObject, Prng, type Json, type JsonObject } from './json.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const POLICY_BUILD = join(ROOT, '.build/policy');
const DEFAULT_FILE = join(ROOT, '.build/golden/decisions.json');

interface ListInput {
  label: string;
  input: JsonObject;
}

interface Golden {
  revision: string;
  corpus: string;
  /** clearance/decision's result set straight from the SDK, so a change of shape shows too. */
  raw: unknown[];
  singles: PolicyResult[];
  lists: PolicyResult[][];
}

/**
 * Decision lists over the corpus: every group of inputs sharing action, subject and account (as
 * the differential test builds them, but whole); and every distinct subject with a few actions over
 * a pool of resources of every type, found or not, well-formed or not, so the list entrypoint
 * sees each subject-level case with many resource-level ones.
 */
function listInputs(entries: readonly Entry[]): ListInput[] {
  const keys = ['action', 'subject', 'account'] as const;
  const groups = new Map<string, JsonObject>();
  const subjects = new Map<string, JsonObject>();
  const resources: Json[] = [];
  entries.forEach(({ input }) => {
    if (!isJsonObject(input)) return;
    if ('resource' in input) resources.push(input.resource as Json);
    if (
      !('resource' in input) ||
      Object.keys(input).some((k) => k !== 'resource' && !(keys as readonly string[]).includes(k))
    )
      return;
    const key = JSON.stringify(keys.map((name) => (name in input ? [input[name]] : [])));
    let group = groups.get(key);
    if (group === undefined) {
      group = {};
      for (const name of keys) if (name in input) group[name] = input[name] as Json;
      group.resources = [];
      groups.set(key, group);
    }
    (group.resources as Json[]).push(input.resource as Json);
    const subjectKey = JSON.stringify(keys.slice(1).map((name) => (name in input ? [input[name]] : [])));
    if (!subjects.has(subjectKey)) {
      const base: JsonObject = {};
      for (const name of keys.slice(1)) if (name in input) base[name] = input[name] as Json;
      subjects.set(subjectKey, base);
    }
  });
  const lists: ListInput[] = [...groups.values()].map((input, i) => ({ label: `group ${i}`, input }));
  const rng = new Prng(0x901d);
  const pool = Array.from({ length: 48 }, () => rng.pick(resources));
  const actions = [
    'client.view',
    'time.push',
    'settings.edit',
    'client.create',
    'user.update',
    'user.client_access.edit',
    'item.publish',
    'expense_claim.approve',
    'nope',
  ];
  let s = 0;
  for (const base of subjects.values()) {
    const action = actions[s % actions.length] as string;
    lists.push({ label: `subject ${s} × pool, ${action}`, input: { action, ...base, resources: pool } });
    s++;
  }
  lists.push({ label: 'empty', input: { action: 'client.view', resources: [] } });
  lists.push({ label: 'not an array', input: { action: 'client.view', resources: { c1: {} } } });
  return lists;
}

/** The single request of one resource of a list: the list's fields, as given, and the resource. */
function requestOf(list: JsonObject, resource: Json): JsonObject {
  const request: JsonObject = {};
  for (const name of ['action', 'subject', 'account']) if (name in list) request[name] = list[name] as Json;
  request.resource = resource;
  return request;
}

/** Every decision raw from the SDK and as the engine shapes it; every list as its single decisions. */
function evaluateAll(engine: PolicyEngine, entries: readonly Entry[], lists: readonly ListInput[]): Golden {
  const sdk = loadSdkPolicy(POLICY_BUILD);
  // As the engine passes it: a falsy input as JSON bytes, so the SDK does not drop it.
  const raw = entries.map(
    ({ input }) =>
      sdk.evaluate(
        input ? input : new TextEncoder().encode(JSON.stringify(input)).buffer,
        'clearance/decision',
      ) as unknown,
  );
  const singles = entries.map(({ input }) => engine.decide(input));
  const listResults = lists.map(({ input }) =>
    Array.isArray(input.resources) ? input.resources.map((resource) => engine.decide(requestOf(input, resource))) : [],
  );
  const corpus = createHash('sha256')
    .update(JSON.stringify(entries))
    .update(JSON.stringify(lists))
    .digest('hex')
    .slice(0, 12);
  return { revision: engine.revision, corpus, raw, singles, lists: listResults };
}

function main(mode: string, file: string): number {
  const entries = generateCorpus();
  const lists = listInputs(entries);
  const engine = PolicyEngine.load(POLICY_BUILD);
  const started = performance.now();
  const now = evaluateAll(engine, entries, lists);
  const took = ((performance.now() - started) / 1000).toFixed(2);
  const listed = lists.reduce((sum, l) => sum + (Array.isArray(l.input.resources) ? l.input.resources.length : 0), 0);
  const summary = `${entries.length} decisions, ${lists.length} lists over ${listed} resources`;
  if (mode === 'record') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(now));
    console.log(`golden: recorded revision ${now.revision}, corpus ${now.corpus}: ${summary} (${took}s) into ${file}`);
    return 0;
  }
  const golden = JSON.parse(readFileSync(file, 'utf8')) as Golden;
  if (golden.corpus !== now.corpus) {
    console.log(
      `golden: the corpus changed (${golden.corpus} recorded, ${now.corpus} now): record again from the old build`,
    );
    return 1;
  }
  let differences = 0;
  const report = (what: string, expected: unknown, actual: unknown, input: unknown) => {
    differences++;
    if (differences <= 10) {
      console.log(
        `DIFF ${what}\n  input    ${JSON.stringify(input)}\n  expected ${JSON.stringify(expected)}\n  actual   ${JSON.stringify(actual)}`,
      );
    }
  };
  now.raw.forEach((result, i) => {
    if (!isDeepStrictEqual(result, golden.raw[i]))
      report(`raw decision #${i} ${entries[i]?.label}`, golden.raw[i], result, entries[i]?.input);
  });
  now.singles.forEach((result, i) => {
    if (!isDeepStrictEqual(result, golden.singles[i]))
      report(`decision #${i} ${entries[i]?.label}`, golden.singles[i], result, entries[i]?.input);
  });
  // Each resource of a list decided on its own must give what the list gave.
  now.lists.forEach((results, l) => {
    results.forEach((result, i) => {
      if (!isDeepStrictEqual(result, golden.lists[l]?.[i]))
        report(`list ${lists[l]?.label} [${i}] decided alone`, golden.lists[l]?.[i], result, null);
    });
  });
  let rows = 0;
  lists.forEach((list, l) => {
    const expected = golden.lists[l] ?? [];
    const resources = Array.isArray(list.input.resources) ? list.input.resources : [];
    if (resources.length !== expected.length)
      report(`list ${list.label}: length`, expected.length, resources.length, list.input);
    const at: number[] = [];
    const clients: ClientTuple[] = [];
    resources.forEach((resource, i) => {
      const row = clientRow(resource);
      if (row !== null) {
        at.push(i);
        clients.push(row);
      }
    });
    if (clients.length === 0) return;
    rows += clients.length;
    const input = { ...requestOf(list.input, null), clients } as unknown as ClientListInput;
    delete (input as unknown as JsonObject).resource;
    const results = engine.decideClients(input);
    results.forEach((result, k) => {
      const i = at[k] as number;
      if (!isDeepStrictEqual(result, expected[i]))
        report(`list ${list.label} [${i}]`, expected[i], result, requestOf(list.input, resources[i] as Json));
    });
  });
  console.log(
    `golden: revision ${now.revision} against recorded ${golden.revision}, corpus ${now.corpus}: ${summary}, ${rows} of them as client rows (${took}s): ${differences} differences`,
  );
  return differences === 0 ? 0 : 1;
}

const [mode, file] = process.argv.slice(2);
if (mode !== 'record' && mode !== 'check') {
  console.error('usage: node test/differential/golden.ts record|check [file]');
  process.exitCode = 2;
} else {
  process.exitCode = main(mode, resolve(file ?? DEFAULT_FILE));
}
