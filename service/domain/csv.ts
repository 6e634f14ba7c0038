// CSV for the exports, as RFC 4180 writes it: a field quoted when it must be, lines ended CRLF.

/** A field: quoted when it holds a comma, a quote or a line break, quotes doubled. */
export const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/**
 * What a spreadsheet takes for the start of a formula (=1+1, +1, -1, @SUM(…), or one behind a tab
 * or CR); and a leading ' itself, so that stripping one ' from every cell that starts with it gives
 * back each value exactly.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

/**
 * A line of cells: text a spreadsheet would run as a formula, or that starts with ', gets a
 * leading ' (OWASP's advice against CSV injection), which a spreadsheet shows as text and a reader
 * of the file strips (one, from each cell that starts with it);
 * null is an empty cell; numbers and booleans are written as JSON writes them.
 */
export function csvLine(cells: ReadonlyArray<string | number | boolean | null>): string {
  let line = '';
  for (const [i, cell] of cells.entries()) {
    if (i > 0) line += ',';
    if (typeof cell === 'string') line += csvField(FORMULA_START.test(cell) ? `'${cell}` : cell);
    else if (cell !== null) line += String(cell);
  }
  return `${line}\r\n`;
}
