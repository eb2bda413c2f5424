/**
 * Ports for tests that open a run of consecutive ports themselves (Service and Gateway
 * listeners moved by an offset): taken below the kernel's ephemeral range (32768 and up), so
 * that no other test's port 0 lands on one of them between the probe and the bind.
 */
import { createServer } from 'node:net';

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port p such that p … p + count - 1 are free now. */
export async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * 10_000);
    let all = true;
    for (let i = 0; i < count && all; i++) all = await free(first + i);
    if (all) return first;
  }
}
