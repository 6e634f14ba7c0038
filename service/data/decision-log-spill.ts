// The decision log's spill files: entries the database could not take by a stop's deadline, one
// JSON row per line in a folder of their own, written whole before they have their name, claimed by
// one process at a time when replayed (at start and hourly, by any process sharing the folder).
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { NewDecisionLogRow } from './schema.ts';

const SPILL_FILE = /^decisions-[\w.-]+\.jsonl$/;
/** A spill file held by a process: being written (under a name no replay takes) or being replayed. */
const HELD_FILE = /^(decisions-[\w.-]+\.jsonl)\.(?:writing|replaying)-(\d+)$/;

/**
 * Writes a file in the spill folder whole before it has its name: under a name of its own until it
 * is on disk, then renamed (atomic), so a replay (another worker, the hourly one) never takes half
 * of it. One left half-written by a process that died is taken back by a replay like a claim.
 */
function writeWhole(dir: string, name: string, text: string): void {
  const writing = join(dir, `${name}.writing-${process.pid}`);
  const fd = openSync(writing, 'w', 0o600);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(writing, join(dir, name));
}

/**
 * Writes rows to a new spill file in dir (made if need be); returns its path. Synchronous: it runs
 * as the process exits.
 */
export function writeSpillFile(dir: string, rows: NewDecisionLogRow[]): string {
  mkdirSync(dir, { recursive: true });
  const name = `decisions-${Date.now()}-${process.pid}.jsonl`;
  writeWhole(dir, name, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
  return join(dir, name);
}

/** A spill file this process claimed for replay. */
export interface ClaimedSpill {
  name: string;
  /** Its rows, and the lines that are not rows (a torn write). */
  read(): { rows: NewDecisionLogRow[]; bad: string[] };
  /** Replayed: the file goes, the bad lines set aside in <name>.bad. */
  done(bad: string[]): void;
  /** Not replayed: the file is given back for a later try. */
  release(): void;
}

/**
 * The spill files in dir, each claimed (renamed for this process) as it is reached, so that two
 * processes starting together do not both replay one; a file claimed, or left half-written, by a
 * process that has since died is taken back first. Nothing when the folder does not exist.
 */
export function* claimSpillFiles(dir: string): Generator<ClaimedSpill> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const claim = HELD_FILE.exec(name);
    if (claim !== null && !isAlive(Number(claim[2]))) {
      try {
        renameSync(join(dir, name), join(dir, claim[1] as string));
      } catch {
        // taken back by another process
      }
    }
  }
  for (const name of readdirSync(dir).filter((file) => SPILL_FILE.test(file))) {
    const claimed = join(dir, `${name}.replaying-${process.pid}`);
    try {
      renameSync(join(dir, name), claimed);
    } catch {
      continue;
    }
    yield {
      name,
      read: () => {
        const rows: NewDecisionLogRow[] = [];
        const bad: string[] = [];
        for (const line of readFileSync(claimed, 'utf8').split('\n')) {
          if (line.trim() === '') continue;
          try {
            rows.push(JSON.parse(line) as NewDecisionLogRow);
          } catch {
            bad.push(line);
          }
        }
        return { rows, bad };
      },
      done: (bad) => {
        if (bad.length > 0) writeWhole(dir, `${name}.bad`, `${bad.join('\n')}\n`);
        unlinkSync(claimed);
      },
      release: () => renameSync(claimed, join(dir, name)),
    };
  }
}

/** Whether a process with this pid is running (a claim by a dead one is stale). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
