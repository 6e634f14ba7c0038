// Reads a V8 .heapsnapshot for `make bench-memory`: self sizes summed by constructor, and what the
// fact cache holds — its entries per kind of fact and the bytes each kind's cache alone keeps alive.
import { readFileSync } from 'node:fs';

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Group {
  count: number;
  size: number;
}

/** A snapshot's graph: nodes by index, each with its type, name, self size and outgoing edges. */
export class HeapGraph {
  readonly #file: SnapshotFile;
  readonly #nodeWidth: number;
  readonly #edgeWidth: number;
  readonly #types: string[];
  readonly #edgeTypes: string[];
  readonly #fields: { type: number; name: number; size: number };
  /** Where each node's edges start in the edges array; the next node's start ends them. */
  readonly #firstEdge: Uint32Array;
  readonly count: number;

  constructor(file: string) {
    this.#file = JSON.parse(readFileSync(file, 'utf8')) as SnapshotFile;
    const meta = this.#file.snapshot.meta;
    this.#nodeWidth = meta.node_fields.length;
    this.#edgeWidth = meta.edge_fields.length;
    this.#types = meta.node_types[0];
    this.#edgeTypes = meta.edge_types[0];
    this.#fields = {
      type: meta.node_fields.indexOf('type'),
      name: meta.node_fields.indexOf('name'),
      size: meta.node_fields.indexOf('self_size'),
    };
    const edgeCount = meta.node_fields.indexOf('edge_count');
    this.count = this.#file.nodes.length / this.#nodeWidth;
    this.#firstEdge = new Uint32Array(this.count + 1);
    for (let node = 0, edge = 0; node < this.count; node += 1) {
      this.#firstEdge[node] = edge;
      edge += (this.#file.nodes[node * this.#nodeWidth + edgeCount] as number) * this.#edgeWidth;
      this.#firstEdge[node + 1] = edge;
    }
  }

  type(node: number): string {
    return this.#types[this.#file.nodes[node * this.#nodeWidth + this.#fields.type] as number] as string;
  }

  name(node: number): string {
    return this.#file.strings[this.#file.nodes[node * this.#nodeWidth + this.#fields.name] as number] ?? '';
  }

  size(node: number): number {
    return this.#file.nodes[node * this.#nodeWidth + this.#fields.size] as number;
  }

  /** The edges out of a node: their type, their name (a property's) and the node they lead to. */
  *edges(node: number): Generator<{ type: string; name: string; to: number }> {
    const { edges, strings } = this.#file;
    for (let at = this.#firstEdge[node] as number; at < (this.#firstEdge[node + 1] as number); at += this.#edgeWidth) {
      const type = this.#edgeTypes[edges[at] as number] as string;
      // Elements and hidden edges are named by an index, the others by a string.
      const name = type === 'element' || type === 'hidden' ? '' : (strings[edges[at + 1] as number] ?? '');
      yield { type, name, to: (edges[at + 2] as number) / this.#nodeWidth };
    }
  }

  /** The node a named property (or internal field) of node leads to. */
  property(node: number, name: string): number | undefined {
    for (const edge of this.edges(node)) if (edge.name === name) return edge.to;
    return undefined;
  }

  /** Every node reachable from `from` over strong edges, not passing through `skip`. */
  reachable(from: number, skip = -1): Uint8Array {
    const seen = new Uint8Array(this.count);
    if (skip >= 0) seen[skip] = 1;
    seen[from] = 1;
    const stack = [from];
    const weak = this.#edgeTypes.indexOf('weak');
    const { edges } = this.#file;
    while (stack.length > 0) {
      const node = stack.pop() as number;
      for (
        let at = this.#firstEdge[node] as number;
        at < (this.#firstEdge[node + 1] as number);
        at += this.#edgeWidth
      ) {
        if (edges[at] === weak) continue;
        const to = (edges[at + 2] as number) / this.#nodeWidth;
        if (seen[to] === 0) {
          seen[to] = 1;
          stack.push(to);
        }
      }
    }
    return seen;
  }

  /**
   * What node alone keeps alive (its retained size): what is reachable from it and no longer from
   * the root once it is taken away; grouped as byConstructor groups.
   */
  retained(node: number): { size: number; groups: Map<string, Group> } {
    const withoutIt = this.reachable(0, node);
    const fromIt = this.reachable(node);
    const groups = new Map<string, Group>();
    let size = 0;
    for (let other = 0; other < this.count; other += 1) {
      if (fromIt[other] === 0 || withoutIt[other] === 1) continue;
      size += this.size(other);
      add(groups, this.#groupOf(other), this.size(other));
    }
    return { size, groups };
  }

  /** Self size and count per (node type, constructor or name). */
  byConstructor(): Map<string, Group> {
    const groups = new Map<string, Group>();
    for (let node = 0; node < this.count; node += 1) add(groups, this.#groupOf(node), this.size(node));
    return groups;
  }

  // Strings and code are grouped by type alone: their names are their contents.
  #groupOf(node: number): string {
    const type = this.type(node);
    if (['string', 'concatenated string', 'sliced string', 'code', 'number'].includes(type)) return type;
    const name = this.name(node);
    return name === '' ? type : `${type} ${name.slice(0, 60)}`;
  }
}

function add(groups: Map<string, Group>, key: string, size: number): void {
  const group = groups.get(key) ?? { count: 0, size: 0 };
  group.count += 1;
  group.size += size;
  groups.set(key, group);
}

export interface CachedKind {
  kind: string;
  /** Entries in both generations of the kind's cache. */
  entries: number;
  /** Bytes the kind's cache alone keeps alive: its maps, keys and values. */
  retained: number;
  /** The largest groups of what it retains. */
  largest: Array<[string, Group]>;
}

/** Entries in both generations of an Lru (service/domain/lru.ts): its maps' keys. */
function entriesOf(graph: HeapGraph, lru: number): number {
  let count = 0;
  for (const generation of ['#young', '#old']) {
    const map = graph.property(lru, generation);
    const table = map === undefined ? undefined : graph.property(map, 'table');
    if (table === undefined) continue;
    // Keys are strings; values are objects, sets, arrays, null, or (the string pool) strings again.
    for (const edge of graph.edges(table))
      if (edge.type === 'internal' && graph.type(edge.to).endsWith('string')) count += 1;
  }
  return count;
}

function cachedKind(graph: HeapGraph, kind: string, lru: number, entries: number): CachedKind {
  const { size, groups } = graph.retained(lru);
  return { kind, entries, retained: size, largest: [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, 5) };
}

/**
 * The fact cache of the process (service/domain/facts.ts: a FactStore's #cached map, by kind, of
 * Lru caches holding a #young and an #old Map): entries and retained size per kind; its string
 * pool (the only other Lru), whose strings the kinds share; and the whole store.
 */
export function factCache(graph: HeapGraph): CachedKind[] {
  const kinds: CachedKind[] = [];
  const caches = new Set<number>();
  for (let node = 0; node < graph.count; node += 1) {
    if (graph.type(node) !== 'object' || graph.name(node) !== 'FactStore') continue;
    const byKind = graph.property(node, '#cached');
    const table = byKind === undefined ? undefined : graph.property(byKind, 'table');
    if (table === undefined) continue;
    // A Map's table holds each entry as a key then its value.
    const entries = [...graph.edges(table)].filter((edge) => edge.type === 'internal');
    for (let at = 0; at + 1 < entries.length; at += 1) {
      const key = entries[at] as { to: number };
      if (graph.type(key.to) !== 'string') continue;
      const lru = graph.property((entries[at + 1] as { to: number }).to, 'cache');
      if (lru === undefined) continue;
      caches.add(lru);
      kinds.push(cachedKind(graph, graph.name(key.to), lru, entriesOf(graph, lru)));
      at += 1;
    }
  }
  for (let node = 0; node < graph.count; node += 1) {
    if (graph.type(node) !== 'object' || graph.name(node) !== 'Lru' || caches.has(node)) continue;
    // A pool entry is its string twice, key and value: each counted once.
    kinds.push(cachedKind(graph, 'string pool', node, entriesOf(graph, node) / 2));
  }
  // The strings a kind shares with the pool are retained by neither alone: the whole store holds them.
  for (let node = 0; node < graph.count; node += 1) {
    if (graph.type(node) !== 'object' || graph.name(node) !== 'FactStore') continue;
    const entries = kinds.filter((kind) => kind.kind !== 'string pool').reduce((sum, kind) => sum + kind.entries, 0);
    kinds.push(cachedKind(graph, 'the whole store', node, entries));
  }
  return kinds;
}
