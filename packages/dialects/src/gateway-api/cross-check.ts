import { Diagnostic, SourceRef, entryKey, error, quote, warning } from '@tether/model';
import { isPlainObject } from '../helpers';
import { sourceOf } from '../kube';
import type { ParsedObject } from '../types';

/** One explicitly named cookie or header, as one route rule uses it for one Service. */
interface CookieUse {
  entry: string;
  service: string;
  hosts: string[];
  path: string;
  source: SourceRef;
  /** The route rule using a policy's name, so that a refusal also names the route. */
  rule?: SourceRef;
  /** Which configuration named it: one rule's sessionPersistence, or one policy. */
  config: string;
}

function hostnames(spec: unknown): string[] {
  if (!isPlainObject(spec) || !Array.isArray(spec.hostnames)) return [];
  return spec.hostnames
    .filter((h): h is string => typeof h === 'string')
    .map((h) => h.toLowerCase());
}

function hostCovers(pattern: string, host: string): boolean {
  return pattern === host || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)));
}

/** A route without hostnames takes every host of its listeners. */
function hostsOverlap(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  return a.some((x) => b.some((y) => hostCovers(x, y) || hostCovers(y, x)));
}

function pathUnder(parent: string, child: string): boolean {
  return child.startsWith(parent) && (parent.endsWith('/') || child[parent.length] === '/');
}

/** Whether a browser would send a cookie set with one Path along with requests of the other. */
function pathsOverlap(a: string, b: string): boolean {
  return a === b || pathUnder(a, b) || pathUnder(b, a);
}

function collect(parsed: readonly ParsedObject[]): Map<string, CookieUse[]> {
  const byName = new Map<string, CookieUse[]>();
  for (const p of parsed) {
    if (p.object.kind !== 'HTTPRoute' && p.object.kind !== 'GRPCRoute') continue;
    const hosts = hostnames(p.object.spec);
    for (const f of p.result.fragments) {
      if (f.type !== 'entry') continue;
      const mode = f.values.mode?.value;
      const name = mode === 'cookie' ? f.values['cookie.name'] : f.values['header.name'];
      if ((mode !== 'cookie' && mode !== 'header') || !name || name.source.isDefault) continue;
      const s = name.source;
      const use: CookieUse = {
        entry: entryKey(f.entry),
        service: `${f.backend.namespace}/${f.backend.service}`,
        hosts,
        // A header goes with every request to the host; a cookie only below its Path.
        path: mode === 'cookie' ? String(f.values['cookie.path']?.value ?? '/') : '/',
        source: s,
        config: `${s.kind}/${s.namespace}/${s.name}#${s.field}`,
      };
      if (s.kind !== p.object.kind)
        use.rule = sourceOf('gateway-api', p.object, `spec.${f.entry.rule}`);
      const key = `${mode} ${quote(name.value)}`;
      byName.set(key, [...(byName.get(key) ?? []), use]);
    }
  }
  return byName;
}

/**
 * GEP-1619: two sessions must not share a cookie (or header) name, and route rules must not share
 * sessions. One configuration naming the cookie for every backend of its own rule is one
 * session; anything else using the same name where the browser would send it along is a
 * clash: an error when the cookie would point at different Services, a warning when two rules
 * of one Service would overwrite each other's session.
 */
export function crossCheckCookieNames(parsed: readonly ParsedObject[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [name, uses] of collect(parsed)) {
    let clash = false;
    let differentServices = false;
    const involved = new Map<string, SourceRef>();
    uses.forEach((a, i) => {
      for (const b of uses.slice(i + 1)) {
        if (a.entry === b.entry && a.config === b.config) continue;
        if (!hostsOverlap(a.hosts, b.hosts) || !pathsOverlap(a.path, b.path)) continue;
        clash = true;
        if (a.service !== b.service) differentServices = true;
        for (const use of [a, b]) {
          involved.set(use.config, use.source);
          if (use.rule) involved.set(`${use.entry}#rule`, use.rule);
        }
      }
    });
    if (!clash) continue;
    const sources = [...involved.values()];
    out.push(
      differentServices
        ? error(
            'DuplicateCookieName',
            `the ${name} names sessions of different Services in overlapping hosts and paths; a client sends one value for both, so give each its own name`,
            ...sources,
          )
        : warning(
            'DuplicateCookieName',
            `the ${name} is used by several route rules of one Service in overlapping hosts and paths; their sessions would overwrite each other, and route rules must not share sessions`,
            ...sources,
          ),
    );
  }
  return out;
}
