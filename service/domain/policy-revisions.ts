// Policy revisions as authors and operators see them: upload a bundle (checked, then stored by its
// content id), list and read them, activate one, roll back along the activation history, and set
// a shadow. Every change is one transaction under the policy lock, recorded in the audit trail and
// announced to every process; this process serves the change before the caller hears back.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { insertAuditRows } from '../data/audit.ts';
import {
  activationAt,
  currentActivation,
  deleteShadow,
  findRevision,
  findShadow,
  insertActivation,
  insertRevision,
  lockPolicyChanges,
  notifyPolicyChange,
  pageRevisions,
  putShadow,
  revisionBundle,
  type RevisionMeta,
  storeSignedCopy,
} from '../data/policy-revisions.ts';
import type { Database, PolicyActivationRow } from '../data/schema.ts';
import { AppError, badRequest, notFound } from '../errors.ts';
import { BundleError, readBundle, readManifest, sourcePaths } from '../policy/bundle.ts';
import { PolicyLoadError, type Policy } from '../policy/engine.ts';
import type { ActivePolicy } from './active-policy.ts';
import { type BundleVerifier, checkedBundle, compiledBundle, unsigned } from './bundle-checks.ts';
import { type ActivationView, activationViewOf, type RevisionView, viewOf } from './policy-revision-views.ts';
import type { Actor } from './audit.ts';
import { isTimePosition, type Keyset, type PageQuery, readPage } from './paging.ts';
import { runCanary } from './policy-canary.ts';

const REVISION_PAGES: Keyset<RevisionMeta, [string, string]> = {
  list: 'policies',
  positionOf: (row) => [new Date(row.created_at).toISOString(), row.revision],
  isPosition: (position) => isTimePosition(position, (id): id is string => typeof id === 'string'),
};

export const revisionNotFound = (revision: string) =>
  notFound('revision_not_found', `no policy revision ${revision} is stored`);

export class PolicyRevisions {
  readonly #db: Kysely<Database>;
  readonly #active: ActivePolicy;
  readonly #verify: BundleVerifier;

  constructor(db: Kysely<Database>, active: ActivePolicy, verify: BundleVerifier = unsigned) {
    this.#db = db;
    this.#active = active;
    this.#verify = verify;
  }

  /**
   * Checks a bundle and stores it unless a bundle of its id is stored already (created: false).
   * Nothing is stored when a check fails: 400 naming it.
   */
  async upload(actor: Actor, archive: Buffer): Promise<{ created: boolean; view: RevisionView }> {
    const { files, revision, signed } = checkedBundle(archive, this.#verify);
    const known = await findRevision(this.#db, revision);
    if (known !== undefined) {
      // The same bundle, now signed with the configured key: the stored copy becomes the signed one.
      if (signed && !known.signed) await storeSignedCopy(this.#db, revision, archive);
      return { created: false, view: await this.#view({ ...known, signed: known.signed || signed }) };
    }
    const engine = this.#active.checked(compiledBundle(files, revision));
    const problem = await runCanary(engine);
    if (problem !== null) {
      throw badRequest('bundle_canary_failed', `the bundle failed its canary decisions: ${problem}`, {
        revision,
      });
    }
    const stored = await this.#db.transaction().execute(async (trx) => {
      const row = await insertRevision(trx, {
        revision,
        bundle: archive,
        contract: String(readManifest(files).metadata?.contract),
        sources: sourcePaths(files),
        size_bytes: archive.length,
        signed,
        created_by: actor.tokenId,
      });
      if (row.created) {
        await audit(trx, actor, 'policy_revision', revision, 'create', null, {
          revision,
          contract: row.meta.contract,
          size_bytes: row.meta.size_bytes,
          signed,
        });
      }
      return row;
    });
    return { created: stored.created, view: await this.#view(stored.meta) };
  }

  async list(query: PageQuery): Promise<{
    revisions: RevisionView[];
    next_cursor: string | null;
    active: ActivationView | null;
    shadow: string | null;
  }> {
    const { rows, next_cursor } = await readPage(REVISION_PAGES, query, (after, limit) =>
      pageRevisions(this.#db, limit, after === null ? null : { at: new Date(after[0]), revision: after[1] }),
    );
    const [activation, shadow] = await Promise.all([currentActivation(this.#db), findShadow(this.#db)]);
    const marks = { active: activation?.revision ?? null, shadow: shadow?.revision ?? null };
    return {
      revisions: rows.map((row) => viewOf(row, marks)),
      next_cursor,
      active: activation === undefined ? null : await this.#activationView(activation),
      shadow: marks.shadow,
    };
  }

  async get(revision: string): Promise<RevisionView & { sources: string[] }> {
    const meta = await findRevision(this.#db, revision);
    if (meta === undefined) throw revisionNotFound(revision);
    return { ...(await this.#view(meta)), sources: meta.sources };
  }

  /** One Rego file of a revision, as uploaded. */
  async source(revision: string, path: string): Promise<string> {
    const archive = await revisionBundle(this.#db, revision);
    if (archive === undefined) throw revisionNotFound(revision);
    const body = readBundle(archive).get(path);
    if (body === undefined || !path.endsWith('.rego')) {
      throw new AppError(404, 'source_not_found', `revision ${revision} has no Rego file ${path}`, {
        details: { field: 'path' },
      });
    }
    return body.toString('utf8');
  }

  /** A stored revision loaded to be served or evaluated (activation, shadow, impact): 404 unknown, 409 not servable here. */
  async candidate(revision: string): Promise<Policy> {
    if ((await findRevision(this.#db, revision)) === undefined) throw revisionNotFound(revision);
    return this.#usable(this.#db, revision);
  }

  /**
   * Makes a stored revision the active one everywhere. Activating the active one changes nothing;
   * so does one asked for onlyIfNone while another is active (decided under the lock, so a start-up
   * never replaces an operator's activation made meanwhile). 409 revision_unusable when this
   * service cannot serve it (another entrypoint contract, or not signed with the configured key).
   */
  async activate(actor: Actor, revision: string, { onlyIfNone = false } = {}): Promise<ActivationView> {
    await this.candidate(revision);
    const activation = await this.#change(actor, async (trx, current) => {
      if (current?.revision === revision || (onlyIfNone && current !== undefined)) return current;
      const row = await insertActivation(trx, {
        revision,
        previous_seq: current?.seq ?? null,
        change: 'activate',
        activated_by: actor.tokenId,
      });
      await audit(trx, actor, 'policy_revision', revision, 'activate', revisionOf(current), { revision });
      return row;
    });
    return this.#activationView(activation);
  }

  /** Activates the revision that was active before the current one (a second rollback goes one further back). */
  async rollback(actor: Actor): Promise<ActivationView> {
    const activation = await this.#change(actor, async (trx, current) => {
      if (current === undefined) throw new AppError(409, 'no_active_revision', 'no policy revision is active');
      const previous = current.previous_seq === null ? undefined : await activationAt(trx, current.previous_seq);
      if (previous === undefined) {
        throw new AppError(
          409,
          'no_previous_revision',
          `revision ${current.revision} has no earlier activation to roll back to`,
        );
      }
      await this.#usable(trx, previous.revision);
      const row = await insertActivation(trx, {
        revision: previous.revision,
        previous_seq: previous.previous_seq,
        change: 'rollback',
        activated_by: actor.tokenId,
      });
      await audit(trx, actor, 'policy_revision', previous.revision, 'rollback', revisionOf(current), {
        revision: previous.revision,
      });
      return row;
    });
    return this.#activationView(activation);
  }

  async shadow(): Promise<{ revision: string | null; set_at: string | null; set_by: string | null }> {
    const row = await findShadow(this.#db);
    return {
      revision: row?.revision ?? null,
      set_at: row === undefined ? null : new Date(row.set_at).toISOString(),
      set_by: row?.set_by ?? null,
    };
  }

  async setShadow(actor: Actor, revision: string): Promise<void> {
    await this.candidate(revision);
    await this.#change(actor, async (trx) => {
      const before = await findShadow(trx);
      if (before?.revision === revision) return;
      await putShadow(trx, revision, actor.tokenId);
      await audit(trx, actor, 'policy_shadow', 'shadow', 'update', revisionOf(before), { revision });
    });
  }

  async clearShadow(actor: Actor): Promise<void> {
    await this.#change(actor, async (trx) => {
      const before = await findShadow(trx);
      if (before === undefined) return;
      await deleteShadow(trx);
      await audit(trx, actor, 'policy_shadow', 'shadow', 'delete', revisionOf(before), null);
    });
  }

  /** The revision active now, if any. */
  async activeRevision(): Promise<string | null> {
    return (await currentActivation(this.#db))?.revision ?? null;
  }

  /** 409 unless this service can load and serve the stored revision. */
  async #usable(db: Kysely<Database>, revision: string): Promise<Policy> {
    try {
      return await this.#active.load(db, revision);
    } catch (error) {
      if (error instanceof PolicyLoadError || error instanceof BundleError) {
        throw new AppError(409, 'revision_unusable', `revision ${revision} cannot be served here: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * One change of the active or shadow revision: under the policy lock, announced to every process
   * in the same transaction; served here before it returns.
   */
  async #change<T>(
    actor: Actor,
    work: (trx: Kysely<Database>, current: PolicyActivationRow | undefined) => Promise<T>,
  ): Promise<T> {
    const result = await this.#db.transaction().execute(async (trx) => {
      await lockPolicyChanges(trx);
      const outcome = await work(trx, await currentActivation(trx));
      await notifyPolicyChange(trx, actor.tokenId);
      return outcome;
    });
    await this.#active.sync();
    return result;
  }

  async #view(meta: RevisionMeta): Promise<RevisionView> {
    const [activation, shadow] = await Promise.all([currentActivation(this.#db), findShadow(this.#db)]);
    return viewOf(meta, { active: activation?.revision ?? null, shadow: shadow?.revision ?? null });
  }

  async #activationView(row: PolicyActivationRow): Promise<ActivationView> {
    const previous = row.previous_seq === null ? undefined : await activationAt(this.#db, row.previous_seq);
    return activationViewOf(row, previous?.revision ?? null);
  }
}

const revisionOf = (row: { revision: string } | undefined) => (row === undefined ? null : { revision: row.revision });

function audit(
  trx: Kysely<Database>,
  actor: Actor,
  recordType: 'policy_revision' | 'policy_shadow',
  recordId: string,
  change: 'create' | 'update' | 'delete' | 'activate' | 'rollback',
  before: object | null,
  after: object | null,
): Promise<void> {
  return insertAuditRows(trx, randomUUID(), actor.tokenId, [
    {
      account_id: null,
      record_type: recordType,
      record_id: recordId,
      user_id: null,
      client_id: null,
      change,
      before,
      after,
    },
  ]);
}
