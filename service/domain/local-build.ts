// The policy build of this checkout (make policies), registered when the service starts: stored
// like an upload, and made active when none is, or always on the embedded development engine.
import type { Actor } from './audit.ts';
import type { PolicyRevisions } from './policy-revisions.ts';

/** The actor of what the service does on its own at start: registering the local build. */
export const LOCAL_BUILD_ACTOR: Actor = { tokenId: 'service:local-build' };

/**
 * Stores the local build if new (after the same checks as an upload); makes it active when none
 * is, or (takeOver: the embedded development engine) whenever it is not. Else the active revision
 * stays, and the log says a newer local build waits inactive.
 */
export async function registerLocalBuild(
  revisions: PolicyRevisions,
  archive: Buffer,
  takeOver: boolean,
  log: { info(message: string): void; warn(message: string): void },
): Promise<void> {
  const { created, view } = await revisions.upload(LOCAL_BUILD_ACTOR, archive);
  const { revision } = view;
  if (created) log.info(`stored the local policy build ${revision}`);
  const current = await revisions.activeRevision();
  if (current === revision) return;
  if (current === null || takeOver) {
    const made = await revisions.activate(LOCAL_BUILD_ACTOR, revision, { onlyIfNone: !takeOver });
    if (made.revision === revision) {
      log.info(`activated the local policy build ${revision}${current === null ? ' (none was active)' : ''}`);
    }
  } else if (created) {
    log.warn(
      `the local policy build ${revision} is stored but not active: revision ${current} stays active ` +
        `(activate it with: ./clearance policy activate ${revision})`,
    );
  }
}
