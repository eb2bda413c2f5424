import { gatewayApi } from './gateway-api';
import { huaweiCce } from './huawei-cce';
import { ingressNginx } from './ingress-nginx';
import { kubeService } from './kube-service';
import { ociLb } from './oci/lb';
import { ociNativeIngress } from './oci/native-ingress';
import { openshift } from './openshift';
import type { Dialect } from './types';

/** Every dialect Tether reads, in the order their defaults are preferred when two disagree. */
export const DIALECTS: readonly Dialect[] = [
  ingressNginx,
  ociNativeIngress,
  ociLb,
  huaweiCce,
  openshift,
  gatewayApi,
  kubeService,
];

export function findDialect(id: string): Dialect | undefined {
  return DIALECTS.find((d) => d.id === id);
}
