// Reads one metric from Prometheus's text format (what GET /metrics answers), for the figures the
// console shows from it. Plain text in, a number out; no DOM, so it is tested on its own.

/**
 * The value of a metric without labels (a gauge such as clearance_decision_log_queue_depth), or
 * the sum of its series when it has labels; null when the text has no sample of it.
 */
export function sampleOf(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) rest = rest.slice(rest.lastIndexOf('}') + 1);
    else if (!rest.startsWith(' ')) continue; // another metric whose name starts with this one
    // The value is the first field; a timestamp may follow it.
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (rest.trim() === '' || Number.isNaN(value)) continue;
    total = (total ?? 0) + value;
  }
  return total;
}
