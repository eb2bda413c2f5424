/** The table of `tether events`: kubectl's columns plus COUNT, repeats grouped. */
import { groupEvents, oneLine, type EventView } from '@tether/controller';
import { humanDuration } from '@tether/model';

// Ages as kubectl prints them: the same function the stand-in API server uses for its tables.

export interface TableOptions {
  /** Add a NAMESPACE column (for every namespace at once). */
  namespaces: boolean;
  now: number;
}

const HEADERS = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'COUNT', 'NOTE'];
const GAP = '   ';

export function eventRow(view: EventView, options: TableOptions): string[] {
  const last = view.lastSeen ? Date.parse(view.lastSeen) : NaN;
  const cells = [
    Number.isNaN(last) ? '<unknown>' : humanDuration(options.now - last),
    view.type,
    oneLine(view.reason),
    oneLine(`${view.object.kind}/${view.object.name}`),
    String(view.count),
    oneLine(view.location ? `${view.note} (${view.location})` : view.note),
  ];
  return options.namespaces ? [oneLine(view.object.namespace ?? ''), ...cells] : cells;
}

export function headerRow(options: Pick<TableOptions, 'namespaces'>): string[] {
  return options.namespaces ? ['NAMESPACE', ...HEADERS] : HEADERS;
}

/** Column widths of these rows (the last column is never padded). */
export function widthsOf(rows: readonly string[][]): number[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return widths;
}

export function formatRow(row: readonly string[], widths: readonly number[]): string {
  return row
    .map((cell, i) =>
      i === row.length - 1
        ? cell
        : cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...cell].length)),
    )
    .join(GAP)
    .trimEnd();
}

/** The whole table, repeats grouped, oldest first; '' when there is nothing to show. */
export function renderEventsTable(items: readonly EventView[], options: TableOptions): string {
  const grouped = groupEvents(items);
  if (grouped.length === 0) return '';
  const rows = [headerRow(options), ...grouped.map((v) => eventRow(v, options))];
  const widths = widthsOf(rows);
  return `${rows.map((r) => formatRow(r, widths)).join('\n')}\n`;
}
