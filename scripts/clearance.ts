// The command line for policy authors: build, push, list, activate, roll back, replay logged
// decisions through a revision (impact), shadow it, and compare two revisions' Rego. It talks to
// a running service over its public API: CLEARANCE_URL (default http://127.0.0.1:8181) and
// CLEARANCE_TOKEN (a token with the policy scope; CLEARANCE_ADMIN_TOKEN when unset).
//
//   ./clearance policy <command> [arguments]      (./clearance help)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { components } from '../service/http/openapi-types.ts';

// The repository this script belongs to: its local build and sources, wherever it is run from.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOCAL_BUILD = join(ROOT, '.build/policy');

const USAGE = `usage: clearance policy <command>

  build                          compile the Rego in policies/ (make policies) and print the revision id
  push [BUNDLE]                  upload a bundle (default .build/policy/bundle.tar.gz) as an inactive revision
  list                           stored revisions, newest first (* active, ~ shadow)
  show REVISION                  one revision and its Rego files
  activate REVISION|local        make a revision active on every replica (local: the local build's)
  rollback                       activate the revision active before the current one
  impact REVISION|local [--since T] [--until T] [--subject ID] [--action A] [--limit N]
                                 replay logged decisions through the revision: what would change
  shadow [show | set REVISION|local | clear]
                                 evaluate every decision also with a revision, recording disagreements
  diff FROM TO                   the Rego changed between two revisions (either may be local)

environment: CLEARANCE_URL (default http://127.0.0.1:8181), CLEARANCE_TOKEN (scope policy)
`;

class CliError extends Error {}

const env = process.env;
const baseUrl = (env.CLEARANCE_URL || 'http://127.0.0.1:8181').replace(/\/+$/, '');
const token = env.CLEARANCE_TOKEN || env.CLEARANCE_ADMIN_TOKEN || '';

async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: Buffer; accept?: string } = {},
): Promise<Response> {
  if (token === '') throw new CliError('set CLEARANCE_TOKEN to a token with the policy scope');
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    Accept: options.accept ?? 'application/json',
  };
  let body: Uint8Array | string | undefined;
  if (options.raw !== undefined) {
    headers['Content-Type'] = 'application/gzip';
    body = new Uint8Array(options.raw);
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  } catch (error) {
    throw new CliError(
      `cannot reach ${baseUrl} (${(error as Error).cause ?? (error as Error).message}); is the service running? (make run)`,
    );
  }
  if (!response.ok) {
    const text = await response.text();
    let detail = text;
    try {
      const { error } = JSON.parse(text) as { error: { code: string; message: string } };
      detail = `${error.code}: ${error.message}`;
    } catch {
      // not the error shape: shown as it came
    }
    throw new CliError(`${method} ${path} answered ${response.status}: ${detail}`);
  }
  return response;
}

const json = async <T>(response: Response) => (await response.json()) as T;

function localRevision(): string {
  try {
    return readFileSync(join(LOCAL_BUILD, 'revision'), 'utf8').trim();
  } catch {
    throw new CliError(`no local build at ${LOCAL_BUILD} (run: ./clearance policy build)`);
  }
}

const revisionArg = (value: string | undefined, what = 'REVISION') => {
  if (value === undefined) throw new CliError(`name the ${what} (see ./clearance policy list)`);
  return value === 'local' ? localRevision() : value;
};

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

type Revision = components['schemas']['PolicyRevisionDetail'];
type Activation = components['schemas']['PolicyActivation'];
type ImpactReport = components['schemas']['ImpactReport'];

function flags(args: string[], known: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i] as string;
    const key = known[name];
    const value = args[i + 1];
    if (key === undefined || value === undefined) throw new CliError(`unknown or incomplete option ${name}`);
    out[key] = value;
  }
  return out;
}

async function impact(revision: string, args: string[]): Promise<void> {
  const options = flags(args, {
    '--since': 'since',
    '--until': 'until',
    '--subject': 'subject_id',
    '--action': 'action',
    '--limit': 'limit',
  });
  const body: Record<string, unknown> = { ...options };
  if (options.limit !== undefined) body.limit = Number(options.limit);
  const response = await call('POST', `/v1/policies/${revision}/impact`, { body, accept: 'application/x-ndjson' });
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  let report: Record<string, unknown> | null = null;
  const tty = process.stderr.isTTY;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = JSON.parse(buffered.slice(0, newline)) as {
        progress?: { scanned: number; replayed: number };
        report?: Record<string, unknown>;
        error?: { code: string; message: string };
      };
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (line.progress !== undefined) {
        const text = `replaying… ${line.progress.scanned} entries read, ${line.progress.replayed} replayed`;
        process.stderr.write(tty ? `\r${text}` : `${text}\n`);
      } else if (line.report !== undefined) report = line.report;
      else if (line.error !== undefined) throw new CliError(`impact failed: ${line.error.code}: ${line.error.message}`);
    }
  }
  if (tty) process.stderr.write('\r\x1b[K');
  if (report === null) throw new CliError('the impact stream ended without a report');
  printImpact(report as unknown as ImpactReport);
}

function printImpact(report: ImpactReport): void {
  const n = String;
  console.log(
    `impact of revision ${report.revision} on ${report.replayed} logged decisions${report.truncated ? ' (the newest only: raise --limit or narrow the window)' : ''}\n`,
  );
  console.log(
    table([
      ['', 'decisions'],
      ['unchanged', n(report.unchanged)],
      ['changed', n(report.changed)],
      ['  allow → deny', n(report.allow_to_deny)],
      ['  deny → allow', n(report.deny_to_allow)],
      ['  reasons changed', n(report.reasons_changed)],
      ['not replayable (no input logged)', n(report.not_replayable)],
      ['invalid under this revision', n(report.invalid_under_candidate)],
      ['replayed with masked fields', n(report.masked_replayed)],
    ]),
  );
  const actions = Object.entries(report.by_action).sort(([a], [b]) => a.localeCompare(b));
  if (actions.length > 0) {
    console.log('');
    console.log(
      table([
        ['action', 'changed', 'allow → deny', 'deny → allow', 'reasons'],
        ...actions.map(([action, c]) => [
          action,
          n(c.changed),
          n(c.allow_to_deny),
          n(c.deny_to_allow),
          n(c.reasons_changed),
        ]),
      ]),
    );
  }
  if (report.samples.length > 0) {
    const verdict = (v: { allow: boolean; reasons: string[] }) =>
      `${v.allow ? 'allow' : 'deny'} ${v.reasons.join(',') || '-'}`;
    console.log('\nsamples');
    console.log(
      table([
        ['decision', 'action', 'before', 'after'],
        ...report.samples.map((s) => [s.decision_id, s.action ?? '-', verdict(s.before), verdict(s.after)]),
      ]),
    );
  }
}

/** The Rego of a revision: from the service, or the local sources for "local". */
async function sources(revision: string, local: boolean, into: string): Promise<void> {
  if (local) {
    execFileSync('cp', ['-r', join(ROOT, 'policies/clearance'), join(into, 'clearance')]);
    return;
  }
  const { sources: paths = [] } = await json<Revision>(await call('GET', `/v1/policies/${revision}`));
  for (const path of paths) {
    const text = await (await call('GET', `/v1/policies/${revision}/source?path=${encodeURIComponent(path)}`)).text();
    const file = join(into, path.replace(/^policies\//, ''));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

async function diff(from: string | undefined, to: string | undefined): Promise<number> {
  if (from === undefined || to === undefined) throw new CliError('usage: clearance policy diff FROM TO');
  const work = mkdtempSync(join(tmpdir(), 'clearance-diff-'));
  try {
    const a = join(work, from);
    const b = join(work, to === from ? `${to}-2` : to);
    mkdirSync(a);
    mkdirSync(b);
    await sources(revisionArg(from), from === 'local', a);
    await sources(revisionArg(to), to === 'local', b);
    const result = spawnSync('diff', ['-ru', '-N', from, to === from ? `${to}-2` : to], {
      cwd: work,
      stdio: 'inherit',
    });
    if (result.error !== undefined) throw new CliError(`cannot run diff: ${result.error.message}`);
    return result.status === 1 ? 0 : (result.status ?? 2);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const [group, command, ...args] = argv;
  if (group === undefined || group === 'help' || group === '--help' || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return group === undefined ? 2 : 0;
  }
  if (group !== 'policy') throw new CliError(`unknown command ${group}\n\n${USAGE}`);
  switch (command) {
    case 'build': {
      const made = spawnSync('make', ['--no-print-directory', '-C', ROOT, 'policies'], { stdio: 'inherit' });
      if (made.status !== 0) return made.status ?? 1;
      console.log(localRevision());
      return 0;
    }
    case 'push': {
      const file = args[0] ?? join(LOCAL_BUILD, 'bundle.tar.gz');
      let archive: Buffer;
      try {
        archive = readFileSync(file);
      } catch {
        throw new CliError(`cannot read ${file}${args[0] === undefined ? ' (run: ./clearance policy build)' : ''}`);
      }
      const response = await call('POST', '/v1/policies', { raw: archive });
      const revision = await json<Revision>(response);
      const state = revision.active ? 'active' : 'inactive';
      console.log(`${response.status === 201 ? 'uploaded' : 'already stored'}: ${revision.revision} (${state})`);
      return 0;
    }
    case 'list': {
      const page = await json<components['schemas']['PolicyRevisionList']>(await call('GET', '/v1/policies?limit=100'));
      console.log(
        table([
          ['', 'revision', 'uploaded', 'by', 'contract', 'signed'],
          ...page.revisions.map((r) => [
            r.active ? '*' : r.shadow ? '~' : '',
            r.revision,
            r.created_at,
            r.created_by,
            r.contract,
            r.signed ? 'yes' : 'no',
          ]),
        ]),
      );
      if (page.active !== null) {
        console.log(
          `\nactive: ${page.active.revision} (${page.active.change} by ${page.active.activated_by} at ${page.active.activated_at})`,
        );
      }
      return 0;
    }
    case 'show': {
      const revision = await json<Revision>(await call('GET', `/v1/policies/${revisionArg(args[0])}`));
      console.log(JSON.stringify(revision, null, 2));
      return 0;
    }
    case 'activate':
    case 'rollback': {
      const activation = await json<Activation>(
        command === 'activate'
          ? await call('POST', `/v1/policies/${revisionArg(args[0])}/activate`)
          : await call('POST', '/v1/policies/rollback'),
      );
      const from =
        activation.previous_revision === null ? '' : ` (rollback target now: ${activation.previous_revision})`;
      console.log(`${command === 'activate' ? 'activated' : 'rolled back to'} ${activation.revision}${from}`);
      return 0;
    }
    case 'impact':
      await impact(revisionArg(args[0]), args.slice(1));
      return 0;
    case 'shadow': {
      const [what = 'show', revision] = args;
      if (what === 'set') await call('PUT', '/v1/policies/shadow', { body: { revision: revisionArg(revision) } });
      else if (what === 'clear') await call('DELETE', '/v1/policies/shadow');
      else if (what !== 'show') throw new CliError('usage: clearance policy shadow [show | set REVISION | clear]');
      const shadow = await json<components['schemas']['PolicyShadow']>(await call('GET', '/v1/policies/shadow'));
      console.log(
        shadow.revision === null
          ? 'no shadow revision'
          : `shadow: ${shadow.revision} (set by ${shadow.set_by} at ${shadow.set_at})`,
      );
      return 0;
    }
    case 'diff':
      return diff(args[0], args[1]);
    default:
      throw new CliError(`unknown command policy ${command}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`clearance: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  },
);
