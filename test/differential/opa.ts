// Evaluates the corpus with OPA's Go evaluator: one `opa eval` process per job, each reading
// its whole share of the corpus as one input document and answering every request in one query.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Json } from './json.ts';

export interface OpaJob {
  /** Inputs for the clearance/decision entrypoint. */
  singles: Json[];
  /** Inputs for the clearance/decisions entrypoint ({action, subject, account, clients}). */
  groups: Json[];
}

/** Per input, the entrypoint's value; undefined where OPA left it undefined. And the messages table. */
export interface OpaAnswer {
  singles: (Json | undefined)[];
  groups: (Json | undefined)[];
  messages: Json | undefined;
  /** Indexes of the singles where validation's one-pass check disagrees with its full check. */
  precheckDisagrees: number[];
}

// Each answer is wrapped in an array of zero or one values, so an undefined decision keeps its place.
const QUERY = [
  '{"singles": [[d | d := data.clearance.decision with input as x] | some x in input.singles],',
  ' "groups": [[d | d := data.clearance.decisions with input as g] | some g in input.groups],',
  ' "messages": data.clearance.messages,',
  ' "precheck_disagrees": [i | some i, x in input.singles; not data.clearance.validation.precheck_agrees(x)]}',
].join('');

function unwrap(values: unknown, expected: number, what: string): (Json | undefined)[] {
  if (!Array.isArray(values) || values.length !== expected) {
    throw new Error(
      `opa eval answered ${Array.isArray(values) ? values.length : typeof values} ${what} for ${expected} inputs`,
    );
  }
  return values.map((wrapped) => (Array.isArray(wrapped) && wrapped.length === 1 ? (wrapped[0] as Json) : undefined));
}

function runOne(opa: string, policyDir: string, inputPath: string, outputPath: string): Promise<void> {
  const out = openSync(outputPath, 'w');
  const args = [
    'eval',
    '--format',
    'json',
    '--data',
    policyDir,
    '--ignore',
    '*_test.rego',
    '--input',
    inputPath,
    QUERY,
  ];
  return new Promise<void>((resolve, reject) => {
    // stdout goes straight to a file: the parent is busy evaluating wasm and must not have to drain a pipe.
    const child = spawn(opa, args, { stdio: ['ignore', out, 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      closeSync(out);
      reject(new Error(`could not run ${opa}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      closeSync(out);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `opa eval exited with ${signal ?? code}: ${stderr.trim() || readFileSync(outputPath, 'utf8').slice(0, 2000)}`,
          ),
        );
    });
  });
}

/** Starts every job at once and resolves with the answers in job order. */
export async function evaluateWithOpa(
  opa: string,
  policyDir: string,
  jobs: readonly OpaJob[],
  workDir: string,
): Promise<OpaAnswer[]> {
  const paths = jobs.map((job, i) => {
    const inputPath = join(workDir, `input-${i}.json`);
    writeFileSync(inputPath, JSON.stringify(job));
    return { inputPath, outputPath: join(workDir, `output-${i}.json`) };
  });
  await Promise.all(paths.map(({ inputPath, outputPath }) => runOne(opa, policyDir, inputPath, outputPath)));
  return jobs.map((job, i) => {
    const { outputPath } = paths[i] as { outputPath: string };
    const output = JSON.parse(readFileSync(outputPath, 'utf8')) as {
      result?: { expressions?: { value?: unknown }[] }[];
    };
    const value = output.result?.[0]?.expressions?.[0]?.value as
      | { singles?: unknown; groups?: unknown; messages?: Json; precheck_disagrees?: unknown }
      | undefined;
    if (value === undefined) throw new Error(`opa eval gave no result for job ${i}`);
    return {
      singles: unwrap(value.singles, job.singles.length, 'decisions'),
      groups: unwrap(value.groups, job.groups.length, 'decision lists'),
      messages: value.messages,
      precheckDisagrees: Array.isArray(value.precheck_disagrees) ? (value.precheck_disagrees as number[]) : [],
    };
  });
}
