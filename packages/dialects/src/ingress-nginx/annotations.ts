import { z } from 'zod';
import { parseGoBool } from '../helpers';
import type { KeySpec } from '../types';
import { goAtoi, goTrimSpace } from './values';

export const PREFIX = 'nginx.ingress.kubernetes.io/';

/** Every annotation the dialect reads, by its name without the prefix. */
export const KEY = {
  affinity: `${PREFIX}affinity`,
  affinityMode: `${PREFIX}affinity-mode`,
  affinityCanaryBehavior: `${PREFIX}affinity-canary-behavior`,
  cookieName: `${PREFIX}session-cookie-name`,
  cookiePath: `${PREFIX}session-cookie-path`,
  cookieDomain: `${PREFIX}session-cookie-domain`,
  cookieSecure: `${PREFIX}session-cookie-secure`,
  cookieSameSite: `${PREFIX}session-cookie-samesite`,
  cookieConditionalSameSiteNone: `${PREFIX}session-cookie-conditional-samesite-none`,
  cookieMaxAge: `${PREFIX}session-cookie-max-age`,
  cookieExpires: `${PREFIX}session-cookie-expires`,
  cookieChangeOnFailure: `${PREFIX}session-cookie-change-on-failure`,
  loadBalance: `${PREFIX}load-balance`,
  upstreamHashBy: `${PREFIX}upstream-hash-by`,
  upstreamHashBySubset: `${PREFIX}upstream-hash-by-subset`,
  upstreamHashBySubsetSize: `${PREFIX}upstream-hash-by-subset-size`,
  canary: `${PREFIX}canary`,
  canaryWeight: `${PREFIX}canary-weight`,
  canaryWeightTotal: `${PREFIX}canary-weight-total`,
  canaryByHeader: `${PREFIX}canary-by-header`,
  canaryByHeaderValue: `${PREFIX}canary-by-header-value`,
  canaryByCookie: `${PREFIX}canary-by-cookie`,
  useRegex: `${PREFIX}use-regex`,
  serverAlias: `${PREFIX}server-alias`,
  sslRedirect: `${PREFIX}ssl-redirect`,
  serviceUpstream: `${PREFIX}service-upstream`,
  backendProtocol: `${PREFIX}backend-protocol`,
  proxySslSecret: `${PREFIX}proxy-ssl-secret`,
  proxySslVerify: `${PREFIX}proxy-ssl-verify`,
  proxySslName: `${PREFIX}proxy-ssl-name`,
  proxySslServerName: `${PREFIX}proxy-ssl-server-name`,
  sslPassthrough: `${PREFIX}ssl-passthrough`,
} as const;

/** The backend protocols the controller accepts (`backendprotocol`, after ToUpper). */
export const BACKEND_PROTOCOLS = [
  'AUTO_HTTP',
  'HTTP',
  'HTTPS',
  'AJP',
  'GRPC',
  'GRPCS',
  'FCGI',
] as const;
export type BackendProtocolValue = (typeof BACKEND_PROTOCOLS)[number];
/** nginx's `$proxy_host` for ingress-nginx's `proxy_pass https://upstream_balancer`. */
export const DEFAULT_PROXY_SSL_NAME = 'upstream_balancer';

export type NginxKey = (typeof KEY)[keyof typeof KEY];

export const DEFAULT_COOKIE_NAME = 'INGRESSCOOKIE';
export const DEFAULT_SUBSET_SIZE = 3;
export const DEFAULT_CANARY_WEIGHT_TOTAL = 100;

export const LOAD_BALANCE_VALUES = [
  'round_robin',
  'chash',
  'chashsubset',
  'sticky_balanced',
  'sticky_persistent',
  'ewma',
] as const;
export type LoadBalanceValue = (typeof LOAD_BALANCE_VALUES)[number];

// The controller's character classes, rewritten for JavaScript. Go's `$` without the `m`
// flag matches only at the very end, as JavaScript's does.
/** Letters, digits and `- . _ ~ / :` (the controller's "basic characters"). */
export const BASIC_CHARS = /^[A-Za-z0-9\-._~/:]*$/;
/** Basic characters plus `? & =`, for URL paths. */
export const URL_CHARS = /^[A-Za-z0-9\-._~/:?&=]*$/;
/** nginx variables and text for `upstream-hash-by`. */
export const HASH_BY_CHARS = /^[A-Za-z0-9\-_${}]*$/;
/**
 * The controller's check for Max-Age and Expires. Only one alternative of each side is
 * anchored, so `-5`, `007`, `0x1F` and `abc12` all pass.
 */
export const SECONDS_CHECK = /(^0|-?[1-9]\d*$)/;

/** What the controller does when one of its checks fails for this key. */
export type OnInvalid = 'ignore' | 'reject';

export interface NginxKeySpec extends KeySpec {
  key: NginxKey;
  /** The syntax, in words, for messages. */
  expected: string;
  /** `reject`: the controller refuses the whole Ingress; `ignore`: it falls back quietly. */
  onInvalid: OnInvalid;
  /** What the controller falls back to, completing "ingress-nginx would silently …". */
  fallback: string;
}

/** The controller's `ValidateOptions`: trims when asked, then compares (maybe case-blind). */
function options(values: readonly string[], caseSensitive: boolean): z.ZodType<string> {
  return z.string().refine(
    (raw) => {
      const text = caseSensitive ? goTrimSpace(raw) : goTrimSpace(raw).toLowerCase();
      return values.includes(text);
    },
    `one of ${values.join(', ')}`,
  );
}

/** The controller's `ValidateRegex`: optionally drops ASCII spaces before matching. */
function chars(pattern: RegExp, dropSpaces: boolean): z.ZodType<string> {
  return z
    .string()
    .refine(
      (raw) => pattern.test(dropSpaces ? raw.replaceAll(' ', '') : raw),
      `matching ${pattern.source}`,
    );
}

const goBool = z.string().refine((raw) => parseGoBool(raw) !== undefined, 'a Go boolean');
const goInt = z.string().refine((raw) => goAtoi(raw) !== undefined, 'a 64-bit integer');

const ingress = ['Ingress'] as const;
const BOOL = 'true or false (also 1/0, t/f, TRUE/FALSE, True/False)';
const BASIC = 'letters, digits and - . _ ~ / :';

/** The table: every key, the controller's own check of the raw value, default and meaning. */
export const TABLE: readonly NginxKeySpec[] = [
  {
    key: KEY.affinity,
    type: 'annotation',
    kinds: ingress,
    schema: options(['cookie'], true),
    doc: 'Turns on cookie session affinity for every upstream of the Ingress; "cookie" is the only type.',
    expected: 'exactly "cookie" (lower case, on one line)',
    onInvalid: 'ignore',
    fallback: 'leave session affinity off',
  },
  {
    key: KEY.affinityMode,
    type: 'annotation',
    kinds: ingress,
    schema: options(['balanced', 'persistent'], true),
    default: 'balanced',
    doc: 'balanced lets scaling move some sessions (hash ring); persistent keeps every session on its endpoint.',
    expected: '"balanced" or "persistent"',
    onInvalid: 'ignore',
    fallback: 'use balanced mode',
  },
  {
    key: KEY.affinityCanaryBehavior,
    type: 'annotation',
    kinds: ingress,
    schema: options(['sticky', 'legacy'], true),
    default: 'sticky',
    doc: 'sticky keeps a session on the side (canary or primary) it was pinned to; legacy ignores affinity for canaries.',
    expected: '"sticky" or "legacy"',
    onInvalid: 'ignore',
    fallback: 'use sticky canary behaviour',
  },
  {
    key: KEY.cookieName,
    type: 'annotation',
    kinds: ingress,
    schema: chars(BASIC_CHARS, true),
    default: DEFAULT_COOKIE_NAME,
    doc: 'Name of the affinity cookie.',
    expected: BASIC,
    onInvalid: 'ignore',
    fallback: `name the cookie ${DEFAULT_COOKIE_NAME}`,
  },
  {
    key: KEY.cookiePath,
    type: 'annotation',
    kinds: ingress,
    schema: chars(URL_CHARS, true),
    default: 'the matched Ingress path, as written',
    doc: 'Path attribute of the cookie; needed when the Ingress paths are regular expressions.',
    expected: 'a path of letters, digits and - . _ ~ / : ? & =',
    onInvalid: 'ignore',
    fallback: 'use the matched Ingress path as the cookie Path',
  },
  {
    key: KEY.cookieDomain,
    type: 'annotation',
    kinds: ingress,
    schema: chars(BASIC_CHARS, true),
    doc: 'Domain attribute of the cookie; left out by default.',
    expected: `a domain of ${BASIC}`,
    onInvalid: 'ignore',
    fallback: 'leave the Domain attribute out',
  },
  {
    key: KEY.cookieSecure,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false (Secure only on requests that arrived over TLS)',
    doc: 'true sets Secure on every response, even over plain HTTP.',
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'set Secure only on requests that arrived over TLS',
  },
  {
    key: KEY.cookieSameSite,
    type: 'annotation',
    kinds: ingress,
    schema: options(['none', 'lax', 'strict'], false),
    doc: 'SameSite attribute (None, Lax or Strict, any case); sent as written; left out by default.',
    expected: 'None, Lax or Strict',
    onInvalid: 'ignore',
    fallback: 'leave the SameSite attribute out',
  },
  {
    key: KEY.cookieConditionalSameSiteNone,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false',
    doc: 'Leaves out SameSite=None for browsers known to mishandle it; works only with SameSite written exactly "None".',
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'always send SameSite as written',
  },
  {
    key: KEY.cookieMaxAge,
    type: 'annotation',
    kinds: ingress,
    schema: chars(SECONDS_CHECK, false),
    doc: 'Max-Age of the cookie in seconds, counted from when it is issued; none by default (session cookie).',
    expected: 'a whole number of seconds',
    onInvalid: 'ignore',
    fallback: 'leave Max-Age out',
  },
  {
    key: KEY.cookieExpires,
    type: 'annotation',
    kinds: ingress,
    schema: chars(SECONDS_CHECK, true),
    doc: 'Expires = time of issue + this many seconds (the older form of Max-Age); none by default.',
    expected: 'a whole number of seconds',
    onInvalid: 'ignore',
    fallback: 'leave Expires out',
  },
  {
    key: KEY.cookieChangeOnFailure,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false',
    doc: 'true: after a failed attempt, retry on another endpoint and re-pin the cookie; false: retry the pinned one.',
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'keep retrying the pinned endpoint',
  },
  {
    key: KEY.loadBalance,
    type: 'annotation',
    kinds: ingress,
    schema: options(LOAD_BALANCE_VALUES, true),
    default: 'round_robin (the ConfigMap load-balance setting)',
    doc: 'Balancing algorithm of the upstream; cookie affinity and upstream-hash-by take precedence.',
    expected: LOAD_BALANCE_VALUES.join(', '),
    onInvalid: 'reject',
    fallback: 'use the ConfigMap default (round_robin)',
  },
  {
    key: KEY.upstreamHashBy,
    type: 'annotation',
    kinds: ingress,
    schema: chars(HASH_BY_CHARS, true),
    doc: 'Consistent hashing on this nginx variable or text ($remote_addr hashes the client address); beats load-balance.',
    expected: 'nginx variables and text of letters, digits and - _ $ { }',
    onInvalid: 'reject',
    fallback: 'not hash requests',
  },
  {
    key: KEY.upstreamHashBySubset,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false',
    doc: 'Hash each key to a subset of endpoints and pick one of them at random.',
    expected: BOOL,
    onInvalid: 'reject',
    fallback: 'hash to a single endpoint',
  },
  {
    key: KEY.upstreamHashBySubsetSize,
    type: 'annotation',
    kinds: ingress,
    schema: goInt,
    default: String(DEFAULT_SUBSET_SIZE),
    doc: 'Number of endpoints in each hash subset.',
    expected: 'an integer',
    onInvalid: 'reject',
    fallback: `use subsets of ${DEFAULT_SUBSET_SIZE}`,
  },
  {
    key: KEY.canary,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false',
    doc: 'Makes the Ingress a canary of the Ingress with the same host and path.',
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'treat the Ingress as an ordinary one',
  },
  {
    key: KEY.canaryWeight,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: goInt,
    default: '0',
    doc: 'Share of requests (out of canary-weight-total) sent to the canary.',
    expected: 'an integer',
    onInvalid: 'ignore',
    fallback: 'use weight 0',
  },
  {
    key: KEY.canaryWeightTotal,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: goInt,
    default: String(DEFAULT_CANARY_WEIGHT_TOTAL),
    doc: 'The total that canary-weight is a share of.',
    expected: 'an integer',
    onInvalid: 'ignore',
    fallback: `use a total of ${DEFAULT_CANARY_WEIGHT_TOTAL}`,
  },
  {
    key: KEY.canaryByHeader,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: chars(BASIC_CHARS, true),
    doc: 'Request header that sends a request to the canary ("always") or away from it ("never").',
    expected: BASIC,
    onInvalid: 'ignore',
    fallback: 'ignore it',
  },
  {
    key: KEY.canaryByHeaderValue,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: chars(BASIC_CHARS, true),
    doc: 'Value of canary-by-header that selects the canary, instead of "always".',
    expected: BASIC,
    onInvalid: 'ignore',
    fallback: 'ignore it',
  },
  {
    key: KEY.canaryByCookie,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: chars(BASIC_CHARS, true),
    doc: 'Cookie that sends a request to the canary ("always") or away from it ("never").',
    expected: BASIC,
    onInvalid: 'ignore',
    fallback: 'ignore it',
  },
  {
    key: KEY.useRegex,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false',
    doc: 'The Ingress paths are regular expressions.',
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'treat the paths as plain paths',
  },
  {
    key: KEY.serverAlias,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: z.string(),
    doc: 'More host names, comma-separated, that get the same routes (and cookie) as the Ingress hosts.',
    expected: 'host names separated by commas',
    onInvalid: 'ignore',
    fallback: 'serve no aliases',
  },
  {
    key: KEY.sslRedirect,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'true when the host has TLS (the ConfigMap ssl-redirect setting)',
    doc: 'Redirect plain-HTTP requests to HTTPS for hosts that have TLS.',
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'use the ConfigMap default (redirect hosts that have TLS)',
  },
  {
    key: KEY.backendProtocol,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: options(
      [...BACKEND_PROTOCOLS].map((p) => p.toLowerCase()),
      false,
    ),
    default: 'HTTP',
    doc: 'What the controller speaks to the endpoints: HTTP, HTTPS (TLS; see proxy-ssl-*), GRPC (HTTP/2 in clear text) or GRPCS (HTTP/2 over TLS). AJP and FCGI are read but not served.',
    expected: BACKEND_PROTOCOLS.join(', '),
    onInvalid: 'ignore',
    fallback: 'speak HTTP to the endpoints',
  },
  {
    key: KEY.proxySslSecret,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
    doc: 'namespace/name of a Secret whose ca.crt verifies the endpoints; without it the controller ignores every proxy-ssl-* key.',
    expected: 'namespace/name of a Secret',
    onInvalid: 'ignore',
    fallback: 'deny the location (503); Tether ignores the proxy-ssl-* keys instead',
  },
  {
    key: KEY.proxySslVerify,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: options(['on', 'off'], true),
    default: 'off',
    doc: "Verify the endpoint's certificate against proxy-ssl-secret's ca.crt, under proxy-ssl-name.",
    expected: 'on or off',
    onInvalid: 'ignore',
    fallback: 'not verify the endpoints',
  },
  {
    key: KEY.proxySslName,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: z.string(),
    default: `${DEFAULT_PROXY_SSL_NAME} (nginx's $proxy_host)`,
    doc: "The name the endpoint's certificate is checked against, and sent as SNI with proxy-ssl-server-name.",
    expected: 'a host name',
    onInvalid: 'ignore',
    fallback: `use ${DEFAULT_PROXY_SSL_NAME}`,
  },
  {
    key: KEY.proxySslServerName,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: options(['on', 'off'], true),
    default: 'off',
    doc: 'Send proxy-ssl-name as SNI to the endpoints.',
    expected: 'on or off',
    onInvalid: 'ignore',
    fallback: 'send no server name',
  },
  {
    key: KEY.sslPassthrough,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false',
    doc: "Send the host's TLS connections on port 443 to the backend as they came, by SNI (the controller's --enable-ssl-passthrough, which Tether always has); plain HTTP is served as before.",
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'end TLS itself',
  },
  {
    key: KEY.serviceUpstream,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ingress,
    schema: goBool,
    default: 'false',
    doc: 'Proxy to the Service ClusterIP instead of its endpoints (which makes affinity and balancing moot).',
    expected: BOOL,
    onInvalid: 'ignore',
    fallback: 'proxy to the endpoints',
  },
];

/** Table rows by key; a unit test checks that every key of KEY has its row. */
export const SPEC = Object.fromEntries(TABLE.map((row) => [row.key, row])) as Record<
  NginxKey,
  NginxKeySpec
>;

export const KEYS: readonly NginxKey[] = TABLE.map((row) => row.key);
