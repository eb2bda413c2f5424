import type { z } from 'zod';
import type { Diagnostic, DialectId, Fragment, PolicyField, ResolvedEntry } from '@tether/model';

/** The parts of a Kubernetes object every reader relies on; everything else is checked where used. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
  };
  spec?: unknown;
  [key: string]: unknown;
}

/** One row of a dialect's table: an annotation key or a spec field the dialect reads. */
export interface KeySpec {
  /** The annotation key, or the spec path for dialects configured in the spec. */
  key: string;
  type: 'annotation' | 'field';
  /** The kinds of object the key is read from. */
  kinds: readonly string[];
  /** Checks the raw value (after the vendor's own trimming). */
  schema: z.ZodType;
  /**
   * The key configures listeners, TLS, routing or the load balancer rather than sessions: a
   * migration away from the dialect leaves it in place.
   */
  keepOnMigration?: boolean;
  /** The vendor's default, as the vendor documents it; absent when there is none. */
  default?: string;
  doc: string;
}

export interface ParseContext {
  /** Every object of the snapshot, for lookups such as the Service behind an Ingress. */
  readonly objects: readonly KubeObject[];
  findService(namespace: string, name: string): KubeObject | undefined;
}

export interface ParseResult {
  fragments: Fragment[];
  diagnostics: Diagnostic[];
}

export interface ParsedObject {
  object: KubeObject;
  dialect: DialectId;
  result: ParseResult;
}

/** A spec field to set (value defined) or remove (value undefined), as a path from the object root. */
export interface SpecEdit {
  path: readonly (string | number)[];
  value?: unknown;
}

export interface EmitInput {
  /** The object the settings are written on; already of a kind the dialect reads. */
  object: KubeObject;
  /** The resolved entry points of the object, with the policy to express. */
  entries: readonly ResolvedEntry[];
  /** Also write values that equal the vendor's defaults. */
  explicit: boolean;
  /**
   * Gateway API: the `sessionPersistence` shape to write: `released` (v1.6, the default) or
   * `union` (the cookie/header union of the API's main branch).
   */
  sessionShape?: 'released' | 'union';
}

export interface EmitOutput {
  /** The dialect's annotations to set on the object. */
  annotations: Record<string, string>;
  /** Spec fields to set or remove, for dialects configured in the spec. */
  spec: SpecEdit[];
  /**
   * `UnsupportedByTarget` for what the dialect cannot say, naming the source (from the
   * entries' `sources`) and why. The migration also compares the result field by field, so a
   * loss an emitter forgets to mention is still reported.
   */
  diagnostics: Diagnostic[];
  /** The dialect's own annotations to remove (left-overs whose value cannot be written back). */
  removeAnnotations?: string[];
  /**
   * Policy fields whose loss the diagnostics above already state, value for value; the
   * migration adds its own warning only for a lost field not listed here. Each emitter's
   * loss helper fills this beside the warnings it words.
   */
  covers: PolicyField[];
}

export interface Dialect {
  id: DialectId;
  title: string;
  /** Annotation prefixes owned by the dialect: a key under one that the table lacks is unknown. */
  prefixes: readonly string[];
  table: readonly KeySpec[];
  /**
   * Keys the vendor defines that Tether does not reproduce (timeouts, rewrites, auth, …): they
   * get an info note instead of the warning a misspelt key gets.
   */
  otherVendorKeys?: readonly string[];
  /** Whether the object carries anything of this dialect (its annotations or spec fields). */
  appliesTo(object: KubeObject): boolean;
  /** One object into fragments and diagnostics. Never throws. */
  parse(object: KubeObject, context: ParseContext): ParseResult;
  /** Objects besides the object itself whose content `parse` reads, so caches of parse results know when to parse again. */
  dependencies?(object: KubeObject, context: ParseContext): readonly KubeObject[];
  /** Rules that span objects, such as a vendor sharing one backend set across Ingresses. */
  crossCheck?(parsed: readonly ParsedObject[]): Diagnostic[];
  /** The kinds this dialect's settings are written on, preferred first. */
  targetKinds?: readonly string[];
  /** Writes a policy in this dialect's canonical form. Never throws. */
  emit?(input: EmitInput): EmitOutput;
  /** Spec fields that carry this dialect's settings on the object, for removal when migrating away. */
  ownedSpec?(object: KubeObject): SpecEdit[];
}
