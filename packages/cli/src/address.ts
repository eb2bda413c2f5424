/** `HOST:PORT`, `:PORT`, `PORT` or `[v6]:PORT` → host and port; host defaults to 127.0.0.1. */
export function parseAddress(text: string, flag: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))?:?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new Error(
      `${flag} ${JSON.stringify(text)} is not HOST:PORT (for example 127.0.0.1:8080)`,
    );
  }
  const host = match[1] ?? (match[2] || '127.0.0.1');
  return { host, port };
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
