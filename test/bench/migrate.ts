/**
 * Migration benchmark: 1,000 manifest files (an ingress-nginx Ingress and its Service each,
 * with comments) migrated to OCI native ingress, then to Gateway API. Goal: under 2 s each.
 */
import { migrate } from '@tether/migrate';
import type { DialectId } from '@tether/model';

const COUNT = 1_000;

function manifest(i: number): string {
  return `# shop ${i}
apiVersion: v1
kind: Service
metadata:
  name: shop-${i}
  namespace: team-${i % 20}
spec:
  ports:
    - name: http
      port: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop-${i}
  namespace: team-${i % 20}
  annotations:
    team.example.com/owner: "cart"   # kept as written
    nginx.ingress.kubernetes.io/affinity: "cookie"
    nginx.ingress.kubernetes.io/affinity-mode: "persistent"
    nginx.ingress.kubernetes.io/session-cookie-name: "shop-${i}"
    nginx.ingress.kubernetes.io/session-cookie-max-age: "${600 + i}"
spec:
  rules:
    - host: shop-${i}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: shop-${i}
                port:
                  number: 80
`;
}

function run(
  to: DialectId,
  files: { file: string; text: string }[],
): { ms: number; objects: number; lost: number } {
  const start = process.hrtime.bigint();
  const result = migrate(files, { to });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    ms,
    objects: result.reports.length,
    lost: result.reports.reduce((n, r) => n + r.lost.length, 0),
  };
}

function main(): void {
  const files = Array.from({ length: COUNT }, (_, i) => ({
    file: `shop-${i}.yaml`,
    text: manifest(i),
  }));
  let ok = true;
  for (const to of ['oci-native-ingress', 'gateway-api'] as const) {
    run(to, files.slice(0, 50)); // warm the code paths
    const { ms, objects, lost } = run(to, files);
    console.log(
      `${COUNT} manifests → ${to}: ${ms.toFixed(0)} ms (${objects} objects migrated, ${lost} settings reported lost)`,
    );
    ok &&= ms < 2000;
  }
  console.log(`peak RSS: ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
  console.log(ok ? 'goal met: under 2 s' : 'GOAL MISSED: 2 s');
  process.exitCode = ok ? 0 : 1;
}

main();
