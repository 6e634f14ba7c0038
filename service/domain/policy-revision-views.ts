// Policy revisions and activations as the API shows them (the PolicyRevision and PolicyActivation
// schemas of the OpenAPI document): times as ISO strings, a revision marked active or shadow.
import type { RevisionMeta } from '../data/policy-revisions.ts';
import type { PolicyActivationRow } from '../data/schema.ts';

/** A revision as the API shows it. */
export interface RevisionView {
  revision: string;
  created_at: string;
  created_by: string;
  contract: string;
  size_bytes: number;
  signed: boolean;
  active: boolean;
  shadow: boolean;
}

export interface ActivationView {
  revision: string;
  change: 'activate' | 'rollback';
  activated_at: string;
  activated_by: string;
  /** The revision active before this one: where a rollback from here goes (null: nowhere). */
  previous_revision: string | null;
}

export function viewOf(meta: RevisionMeta, marks: { active: string | null; shadow: string | null }): RevisionView {
  return {
    revision: meta.revision,
    created_at: new Date(meta.created_at).toISOString(),
    created_by: meta.created_by,
    contract: meta.contract,
    size_bytes: meta.size_bytes,
    signed: meta.signed,
    active: meta.revision === marks.active,
    shadow: meta.revision === marks.shadow,
  };
}

/** An activation, with the revision active before it (where a rollback from it goes). */
export function activationViewOf(row: PolicyActivationRow, previous: string | null): ActivationView {
  return {
    revision: row.revision,
    change: row.change,
    activated_at: new Date(row.activated_at).toISOString(),
    activated_by: row.activated_by,
    previous_revision: previous,
  };
}
