// The servers a benchmark runs against, as child processes, and what they cost: CPU seconds and
// peak resident memory of the whole process tree (a cluster supervisor and its workers), read
// from /proc while the load runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { peakSampler } from './resident.ts';

export interface Server {
  name: string;
  origin: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function startServer(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  readyUrl: string,
): Promise<Server> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let ok = false;
  for (let i = 0; i < 600 && !ok && child.exitCode === null; i++) {
    ok = await fetch(readyUrl).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ok) await sleep(100);
  }
  if (!ok) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not get ready at ${readyUrl}:\n${output.slice(-3000)}`);
  }
  return {
    name,
    origin: new URL(readyUrl).origin,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(40_000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

function parentOf(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** The pid and every descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const parent = parentOf(name);
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
  }
  const tree: number[] = [];
  const visit = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}

/** CPU seconds the processes used so far (user and system), from /proc. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone
    }
  }
  return ticks / CLOCK_TICKS;
}

export interface Usage {
  /** Cores busy on average (CPU seconds per second). */
  cpuCores: number;
  /** Highest sum of resident memory over the tree, sampled every 200 ms. */
  peakRssMb: number;
  /**
   * Highest sum of proportional set size over the tree, sampled with it: the pages its processes
   * share (the Node binary, libraries) counted once for the tree instead of once per process.
   */
  peakPssMb: number;
}

/** Runs work while watching the process tree under root. */
export async function measured<T>(root: number, work: () => Promise<T>): Promise<{ result: T; usage: Usage }> {
  const pids = processTree(root);
  const cpuBefore = cpuSeconds(pids);
  const peakOf = peakSampler(pids);
  const started = performance.now();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    peakOf();
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuCores = Math.round(((cpuSeconds(pids) - cpuBefore) / seconds) * 100) / 100;
  const peak = peakOf();
  return {
    result,
    usage: {
      cpuCores,
      peakRssMb: Math.round(peak.rss / 1048576),
      peakPssMb: Math.round(peak.pss / 1048576),
    },
  };
}

/** A Chrome DevTools protocol session with a process started with --inspect. */
export interface Inspector {
  send(method: string, params?: object): Promise<Record<string, unknown>>;
  /** Calls handler with every event the process sends (HeapProfiler chunks, …). */
  onEvent(handler: (method: string, params: Record<string, unknown>) => void): void;
  close(): void;
}

/** A minimal Chrome DevTools protocol client over the inspector's WebSocket. */
export async function inspector(server: Server, inspectPort: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined)
    throw new Error(`no inspector target on port ${inspectPort}:\n${server.output().slice(-2000)}`);
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let next = 0;
  const pending = new Map<number, { resolve(value: Record<string, unknown>): void; reject(error: Error): void }>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as {
      id?: number;
      result?: Record<string, unknown>;
      error?: { message: string };
    };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id as number);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result ?? {});
  };
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    onEvent: (handler) => {
      const previous = socket.onmessage;
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as { method?: string; params?: Record<string, unknown> };
        if (message.method !== undefined) handler(message.method, message.params ?? {});
        previous?.call(socket, event);
      };
    },
    close: () => socket.close(),
  };
}
