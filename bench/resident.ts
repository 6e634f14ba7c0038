// Resident memory of a process as Linux tells it (/proc), for `make bench-memory`.
import { readFileSync } from 'node:fs';

export const mb = (bytes: number) => (bytes / 1048576).toFixed(1).padStart(7);

/** A process's resident memory now (VmRSS) and at its highest so far (VmHWM), in bytes; 0 once it is gone. */
export function residentOf(pid: number): { now: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { now: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { now: 0, peak: 0 };
  }
}

/**
 * A process's proportional set size now, in bytes (0 once it is gone): its resident pages, each
 * shared one divided by the number of processes mapping it, so that the sum over a process tree
 * counts the Node binary and libraries its processes all map once rather than once per process.
 */
export function proportionalOf(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * The highest sums over the processes of their resident memory (RSS) and of their proportional set
 * size, in bytes, sampled every 200 ms from now until the function it returns is called.
 */
export function peakSampler(pids: number[]): () => { rss: number; pss: number } {
  const sum = (of: (pid: number) => number) => pids.reduce((total, pid) => total + of(pid), 0);
  const peak = { rss: 0, pss: 0 };
  const sample = () => {
    peak.rss = Math.max(
      peak.rss,
      sum((pid) => residentOf(pid).now),
    );
    peak.pss = Math.max(peak.pss, sum(proportionalOf));
  };
  sample();
  const timer = setInterval(sample, 200);
  return () => {
    clearInterval(timer);
    sample();
    return peak;
  };
}

/**
 * Where a process's resident memory lies, from /proc/<pid>/smaps: the brk heap (malloc's main
 * arena), anonymous mappings by size class (malloc's other arenas reserve 64 MiB each; V8 maps its
 * heap in 256 KiB pages within a reserved cage), and mapped files; those of 0.5 MiB or more.
 */
export function residentByMapping(pid: number): string {
  const totals = new Map<string, number>();
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) {
      const size = (parseInt(header[2] as string, 16) - parseInt(header[1] as string, 16)) / 1048576;
      const path = header[3] ?? '';
      kind =
        path === '[heap]'
          ? 'brk heap (malloc main arena)'
          : path.startsWith('/')
            ? 'mapped files'
            : path !== ''
              ? path
              : size >= 60 && size <= 64
                ? 'anonymous, 60-64 MiB (malloc arenas)'
                : size > 64
                  ? 'anonymous, over 64 MiB'
                  : 'anonymous, under 60 MiB';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) totals.set(kind, (totals.get(kind) ?? 0) + Number(rss[1]) * 1024);
  }
  return [...totals]
    .filter(([, bytes]) => bytes >= 524288)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${mb(v)} MiB  ${k}`)
    .join('\n');
}
