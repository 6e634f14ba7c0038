// What `make bench-profile` groups its figures by, and its allocation summary: V8's sampling heap
// profiler, told to keep the samples of objects the collector has already freed, estimates every
// byte the serving thread allocated (each node's selfSize is scaled from its samples), which is
// what drives the young generation's scavenges and what survives them into the old generation.

/** The area a function belongs to, from its script: ours, a dependency, Node, the policy module. */
export function area(url: string, name: string): string {
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(idle)') return 'idle';
  if (name === '(program)' || name === '(root)') return 'V8 and native code';
  if (url.startsWith('wasm://')) return 'policy (WebAssembly)';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency !== null) return dependency[1] as string;
  const ours = /\/(service|bench)\/(.+)$/.exec(url);
  if (ours !== null) return `${ours[1]}/${(ours[2] as string).split('/')[0]}`;
  if (url.startsWith('node:') || url === '') return 'Node.js internals';
  return url;
}

/** A function as the summaries name it: its name, then its file below node_modules, service or bench. */
export const functionKey = (name: string, url: string, line: number) =>
  `${name || '(anonymous)'}  ${url.replace(/^.*\/(node_modules|service|bench)\//, '$1/')}:${line + 1}`;

export interface AllocationNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocationNode[];
}

/**
 * Bytes allocated per request by area, by function, and by the first of our own functions on the
 * stack (a dependency's or Node's allocations charged to the code of ours that asked for them).
 */
export function summariseAllocations(head: AllocationNode, requests: number): string {
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byOwnCaller = new Map<string, number>();
  let total = 0;
  const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
  const walk = (node: AllocationNode, ownCaller: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = functionKey(functionName, url, lineNumber);
    const where = area(url, functionName);
    const caller = where.startsWith('service/') ? key : ownCaller;
    if (node.selfSize > 0) {
      total += node.selfSize;
      add(byArea, where, node.selfSize);
      add(byFunction, key, node.selfSize);
      add(byOwnCaller, caller, node.selfSize);
    }
    for (const child of node.children) walk(child, caller);
  };
  walk(head, '(none of ours on the stack)');
  const perRequest = (bytes: number) => `${(bytes / Math.max(1, requests)).toFixed(0).padStart(7)} B`;
  const share = (bytes: number) => `${((bytes / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%`;
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, bytes]) => `  ${perRequest(bytes)}  ${share(bytes)}  ${name}`);
  return [
    `allocated on the serving thread: ${perRequest(total).trim()} per request (${(total / 1048576).toFixed(0)} MiB over ${requests} requests)`,
    '',
    'by area (per request, share):',
    ...top(byArea, 15),
    '',
    'by function allocating (per request, share):',
    ...top(byFunction, 25),
    '',
    'by the innermost of our functions on the stack (per request, share):',
    ...top(byOwnCaller, 25),
  ].join('\n');
}
