// Differential test: the compiled WebAssembly policy (as the service runs it, through PolicyEngine)
// against OPA's Go evaluator on the Rego sources, over a generated corpus of policy inputs.
//
//   node test/differential/run.ts <path-to-opa> [results-file]        (make test-differential)
//
// Every input is decided by clearance/decision in both; client inputs that share subject, account
// and action are also decided together by clearance/decisions in both (the clients as rows, see
// client-rows.ts), which must repeat the single decisions in order. Lists of rows that stand for
// no resource (not five values) are compared between the two evaluators. OPA also checks, for every
// input, that validation's one-pass check agrees with its full check. Each area of the corpus
// (clients, users, malformed, …) is one test, and those lists one more: it fails when any input
// of it does. Writes "<passed> <failed> <inputs> inputs" to .build/test-results/differential and
// exits 1 on any mismatch, on a corpus too small, or on a corpus that is all deny (a failed
// sanity check counts as one more failed test).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type ClientListInput, expandList, type PolicyResult } from '../../service/policy/answers.ts';
import { PolicyEngine } from '../../service/policy/engine.ts';
import { clientRow } from './client-rows.ts';
import { generateCorpus, type Entry } from './corpus.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';
import { evaluateWithOpa, type OpaAnswer, type OpaJob } from './opa.ts';
import { snapshotSources } from './sources.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const POLICY_BUILD = join(ROOT, '.build/policy');
const RESULTS_FILE = resolve(process.argv[3] ?? join(ROOT, '.build/test-results/differential'));
const MIN_INPUTS = 3000;
const MIN_REASON_CODES = 10;
const SHOWN_IN_FULL = 20;
const SHOWN_AT_ALL = 200;
const MAX_GROUP = 32;

interface Group {
  /** Corpus indexes of the members, in the order of input.clients. */
  members: number[];
  input: JsonObject;
}

/** A clearance/decisions input: per-request keys of the members, and their clients in order. */
const GROUP_KEYS = ['action', 'subject', 'account'] as const;

/**
 * Groups the object inputs whose only keys are action, subject, account and a resource a client
 * row can stand for, by their action, subject and account, so decisions over the group must equal
 * each member's decision.
 */
function buildGroups(entries: readonly Entry[]): Group[] {
  const byKey = new Map<string, number[]>();
  entries.forEach(({ input }, index) => {
    if (!isJsonObject(input) || clientRow(input.resource) === null) return;
    if (Object.keys(input).some((key) => key !== 'resource' && !(GROUP_KEYS as readonly string[]).includes(key)))
      return;
    const key = JSON.stringify(GROUP_KEYS.map((name) => (name in input ? [input[name]] : [])));
    const members = byKey.get(key);
    if (members) members.push(index);
    else byKey.set(key, [index]);
  });
  const groups: Group[] = [];
  for (const members of byKey.values()) {
    if (members.length < 2) continue;
    for (let start = 0; start < members.length; start += MAX_GROUP) {
      const chunk = members.slice(start, start + MAX_GROUP);
      const first = entries[chunk[0] as number]?.input as JsonObject;
      const input: JsonObject = {};
      for (const name of GROUP_KEYS) if (name in first) input[name] = first[name] as Json;
      input.clients = chunk.map(
        (index) => clientRow(((entries[index]?.input ?? {}) as JsonObject).resource as Json) as unknown as Json,
      );
      groups.push({ members: chunk, input });
    }
  }
  return groups;
}

type Range = [start: number, end: number];

/** Splits the singles and then the groups into `count` jobs of about as many decisions each. */
function splitJobs(singles: number, groups: readonly Group[], count: number): { singles: Range; groups: Range }[] {
  const sizes = [...Array.from({ length: singles }, () => 1), ...groups.map((g) => g.members.length)];
  const budget = Math.ceil(sizes.reduce((a, b) => a + b, 0) / count);
  const cuts = [0];
  let used = 0;
  sizes.forEach((size, i) => {
    used += size;
    if (used >= budget && cuts.length < count) {
      cuts.push(i + 1);
      used = 0;
    }
  });
  while (cuts.length <= count) cuts.push(sizes.length);
  cuts[count] = sizes.length;
  const clamp = (at: number, lo: number, hi: number) => Math.min(Math.max(at - lo, 0), hi);
  return Array.from({ length: count }, (_, j) => {
    const from = cuts[j] as number;
    const to = cuts[j + 1] as number;
    return {
      singles: [clamp(from, 0, singles), clamp(to, 0, singles)],
      groups: [clamp(from, singles, groups.length), clamp(to, singles, groups.length)],
    };
  });
}

const show = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value));

async function main(opa: string): Promise<number> {
  const started = performance.now();
  const lap = (since: number) => `${((performance.now() - since) / 1000).toFixed(2)}s`;

  const entries = generateCorpus();
  const singles = entries.map((e) => e.input);
  const groups = buildGroups(entries);
  // Two decision lists with no resources at all: both evaluators must answer [].
  const sample = entries.find(
    ({ input }) => isJsonObject(input) && isJsonObject(input.subject) && input.subject.found === true,
  );
  const known = (sample?.input ?? {}) as JsonObject;
  const emptyLists: JsonObject[] = [
    { action: known.action ?? null, subject: known.subject ?? null, account: known.account ?? null, clients: [] },
    { action: 'users.list', subject: { id: 'u-ghost', found: false }, account: null, clients: [] },
  ];
  // Rows that stand for no client resource: only the two evaluators can be compared.
  const oddRows: Json[] = [
    null,
    'c1',
    7,
    [],
    ['c1', 'acc-practice-1', 'xero', true],
    ['c1', 'acc-practice-1', 'xero', true, false, 'x'],
    { id: 'c1' },
  ];
  const oddLists: JsonObject[] = [
    { action: 'client.view', subject: known.subject ?? null, account: known.account ?? null, clients: oddRows },
    { action: 'user.create', subject: known.subject ?? null, account: known.account ?? null, clients: oddRows },
    { subject: { id: 'u-ghost', found: false }, account: null, clients: oddRows },
  ];
  const listInputs: JsonObject[] = [...groups.map((g) => g.input), ...emptyLists, ...oddLists];
  const groupedResources = groups.reduce((sum, g) => sum + g.members.length, 0);
  const fingerprint = createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 12);
  console.log(
    `corpus ${fingerprint}: ${entries.length} inputs; ${groups.length} decision lists over ${groupedResources} of them, plus ${emptyLists.length} empty lists and ${oddLists.length} of odd rows (generated in ${lap(started)})`,
  );

  // OPA runs in child processes, on a snapshot of the sources, while this process evaluates the
  // WebAssembly policy the service loads.
  const workDir = mkdtempSync(join(tmpdir(), 'clearance-differential-'));
  let wasmSingles: PolicyResult[];
  let wasmLists: PolicyResult[][];
  let answers: OpaAnswer[];
  try {
    const engine = PolicyEngine.load(POLICY_BUILD);
    const sources = snapshotSources(ROOT, POLICY_BUILD, workDir);
    console.log(
      sources.newerThanBuild.length === 0
        ? `policy revision ${engine.revision}, built after the last change to its sources`
        : `WARNING: ${sources.newerThanBuild.join(', ')} changed after revision ${engine.revision} was built ` +
            '(run "make policies"): a mismatch may come from that',
    );
    const ranges = splitJobs(singles.length, groups, Math.max(1, Math.min(2, availableParallelism())));
    const jobs: OpaJob[] = ranges.map((range, j) => ({
      singles: singles.slice(...range.singles),
      groups: [...listInputs.slice(...range.groups), ...(j === ranges.length - 1 ? [...emptyLists, ...oddLists] : [])],
    }));
    const opaStarted = performance.now();
    let opaTime = '';
    const pending = evaluateWithOpa(opa, sources.dir, jobs, workDir).then((result) => {
      opaTime = lap(opaStarted);
      return result;
    });
    pending.catch(() => undefined); // awaited below, after the wasm evaluation

    const wasmStarted = performance.now();
    wasmSingles = singles.map((input) => engine.decide(input));
    wasmLists = listInputs.map((input) => engine.decideClients(input as unknown as ClientListInput));
    const wasmTime = lap(wasmStarted);
    try {
      answers = await pending;
    } catch (error) {
      console.error(`differential: opa eval failed: ${(error as Error).message}`);
      writeResults(0, areasOf(entries).length + 1, entries.length);
      return 1;
    }
    console.log(
      `evaluated: wasm ${wasmTime} (${singles.length} decisions, ${listInputs.length} decision lists), opa eval ${opaTime} in ${jobs.length} processes`,
    );
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const opaSingles = answers.flatMap((a) => a.singles);
  // OPA's lists carry codes; its own messages table turns them into reasons.
  const opaMessages = answers[0]?.messages;
  const opaReasons = new Map<string, string>(
    isJsonObject(opaMessages) ? Object.entries(opaMessages).map(([code, message]) => [code, String(message)]) : [],
  );
  const opaLists = answers
    .flatMap((a) => a.groups)
    .map(
      (value, l) => expandList(value, (listInputs[l]?.clients as Json[] | undefined)?.length ?? 0, opaReasons) ?? value,
    );

  // Compare: an input fails when the two evaluators differ on its decision, or when a decision
  // list it belongs to does not repeat its decision, in either evaluator.
  const problems = new Map<number, string[]>();
  const fail = (index: number, message: string) => {
    const list = problems.get(index);
    if (list) list.push(message);
    else problems.set(index, [message]);
  };
  singles.forEach((_, i) => {
    const wasm = wasmSingles[i];
    const go = opaSingles[i];
    if (!isDeepStrictEqual(wasm, go)) fail(i, `decision: wasm ${show(wasm)} opa ${show(go)}`);
  });
  // Validation's one-pass check of the common case must say "fine" exactly when its full check
  // finds no problem (asked of OPA for every single, by index within its job).
  let offset = 0;
  for (const answer of answers) {
    for (const i of answer.precheckDisagrees)
      fail(offset + i, 'validation: the one-pass check disagrees with the full check');
    offset += answer.singles.length;
  }
  groups.forEach((group, g) => {
    const wasmList = wasmLists[g] ?? [];
    const opaList = opaLists[g];
    group.members.forEach((index, k) => {
      const wasm = wasmList[k];
      const go = Array.isArray(opaList) ? opaList[k] : undefined;
      if (!isDeepStrictEqual(wasm, wasmSingles[index])) {
        fail(
          index,
          `decisions[${k}] of list ${g} in wasm ${show(wasm)} differs from its decision ${show(wasmSingles[index])}`,
        );
      }
      if (!isDeepStrictEqual(go, opaSingles[index])) {
        fail(
          index,
          `decisions[${k}] of list ${g} in opa ${show(go)} differs from its decision ${show(opaSingles[index])}`,
        );
      }
    });
    if (
      !Array.isArray(opaList) ||
      opaList.length !== group.members.length ||
      wasmList.length !== group.members.length
    ) {
      const opaCount = Array.isArray(opaList) ? opaList.length : show(opaList);
      fail(
        group.members[0] as number,
        `list ${g}: ${group.members.length} resources, wasm gave ${wasmList.length} decisions, opa ${opaCount}`,
      );
    }
  });
  let shown = 0;
  const failedInputs = new Map<string, number>();
  for (const [index, messages] of [...problems.entries()].sort((a, b) => a[0] - b[0])) {
    const entry = entries[index] as Entry;
    const detail = shown < SHOWN_IN_FULL ? ` | input ${JSON.stringify(entry.input)} | ${messages.join(' | ')}` : '';
    if (shown < SHOWN_AT_ALL) console.log(`MISMATCH #${index} ${entry.area}: ${entry.label}${detail}`);
    shown++;
    failedInputs.set(entry.area, (failedInputs.get(entry.area) ?? 0) + 1);
  }
  if (shown > SHOWN_AT_ALL) console.log(`… and ${shown - SHOWN_AT_ALL} more mismatched inputs`);
  // The empty lists and the lists of odd rows are the last test.
  let listsFailed = 0;
  emptyLists.forEach((input, e) => {
    const wasm = wasmLists[groups.length + e];
    const go = opaLists[groups.length + e];
    if (isDeepStrictEqual(wasm, []) && isDeepStrictEqual(go, [])) return;
    console.log(`MISMATCH empty decision list ${JSON.stringify(input)}: wasm ${show(wasm)} opa ${show(go)}`);
    listsFailed++;
  });
  oddLists.forEach((input, o) => {
    const wasm = wasmLists[groups.length + emptyLists.length + o];
    const go = opaLists[groups.length + emptyLists.length + o];
    const invalid = (list: unknown) =>
      Array.isArray(list) &&
      list.every((r: PolicyResult) => !r.allow && r.reasons.every((x) => x.code === 'invalid_input'));
    if (isDeepStrictEqual(wasm, go) && Array.isArray(wasm) && wasm.length === oddRows.length && invalid(wasm)) return;
    console.log(`MISMATCH list of odd rows ${JSON.stringify(input)}: wasm ${show(wasm)} opa ${show(go)}`);
    listsFailed++;
  });
  const tests = [
    ...areasOf(entries).map(([area, inputs]) => ({ name: area, inputs, failed: failedInputs.get(area) ?? 0 })),
    { name: 'lists with no resource or odd rows', inputs: emptyLists.length + oddLists.length, failed: listsFailed },
  ];
  for (const test of tests) {
    console.log(
      `${test.failed === 0 ? 'ok' : 'not ok'} - ${test.name}: ${test.inputs} inputs${test.failed === 0 ? '' : `, ${test.failed} mismatched`}`,
    );
  }
  const failed = tests.filter((test) => test.failed > 0).length;
  const passed = tests.length - failed;
  const inputs = tests.reduce((sum, test) => sum + test.inputs, 0);
  const mismatched = tests.reduce((sum, test) => sum + test.failed, 0);

  // Sanity: the corpus must exercise the policy, not only its refusals.
  let allowed = 0;
  const codes = new Map<string, number>();
  for (const result of wasmSingles) {
    if (result.allow) allowed++;
    for (const { code } of result.reasons) codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const codeList = [...codes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([code, n]) => `${code}=${n}`);
  console.log(
    `outcomes (wasm): ${allowed} allowed, ${wasmSingles.length - allowed} denied; ${codes.size} distinct reason codes: ${codeList.join(' ')}`,
  );
  const sanity: string[] = [];
  if (entries.length < MIN_INPUTS)
    sanity.push(`only ${entries.length} inputs compared (at least ${MIN_INPUTS} required)`);
  if (allowed === 0) sanity.push('no input was allowed');
  if (codes.size < MIN_REASON_CODES)
    sanity.push(`only ${codes.size} distinct reason codes (at least ${MIN_REASON_CODES} required)`);
  for (const message of sanity) console.log(`SANITY FAILED: ${message}`);

  console.log(
    `differential: ${tests.length} tests over ${inputs} inputs, ${passed} passed, ${failed} failed; ${mismatched} inputs mismatched (${lap(started)})`,
  );
  // A failed sanity check counts as one more failed test, so the totals never read as all green.
  writeResults(passed, failed + sanity.length, inputs);
  return failed > 0 || sanity.length > 0 ? 1 : 0;
}

/** The areas of the corpus in order, with how many inputs each holds. */
function areasOf(entries: readonly Entry[]): Array<[area: string, inputs: number]> {
  const areas = new Map<string, number>();
  for (const { area } of entries) areas.set(area, (areas.get(area) ?? 0) + 1);
  return [...areas.entries()];
}

function writeResults(passed: number, failed: number, inputs: number): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${passed} ${failed} ${inputs} inputs\n`);
}

const opaPath = process.argv[2];
if (!opaPath) {
  console.error('usage: node test/differential/run.ts <path-to-opa> [results-file]');
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await main(opaPath);
  } catch (error) {
    console.error(`differential: ${(error as Error).stack ?? String(error)}`);
    writeResults(0, 1, 0);
    process.exitCode = 1;
  }
}
