import { stringify } from 'yaml';

/** Machine-readable output: pretty JSON or YAML with a trailing newline. */
export function renderData(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json'
    ? `${JSON.stringify(data, null, 2)}\n`
    : stringify(data, { lineWidth: 0 });
}
