/** The table of `tether events`: kubectl's columns plus COUNT, repeats grouped. */
import { groupEvents, oneLine, type EventView } from '@tether/controller';

/**
 * A duration the way kubectl prints ages: seconds up to two minutes, then minutes (with
 * seconds below ten minutes), hours (with minutes below eight hours), days, years.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (days < 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

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
