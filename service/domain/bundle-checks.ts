// What an uploaded policy bundle must pass before it is stored: it reads as a bundle, its signature
// checks out when a verification key is configured, the revision its manifest claims is the one its
// files make, and it compiles to a policy this service can load. Each failure is a 400 naming it.
import { badRequest } from '../errors.ts';
import { BundleError, bundleId, type BundleFiles, readBundle, readManifest } from '../policy/bundle.ts';
import { PolicyEngine, PolicyLoadError, type Policy } from '../policy/engine.ts';

/** Checks a bundle's signature (configured with a verification key); throws BundleError when it fails. */
export type BundleVerifier = (files: BundleFiles) => { signed: boolean };

/** The verifier without a key: every bundle is taken, as unsigned. */
export const unsigned: BundleVerifier = () => ({ signed: false });

/** The bundle's files, its id and whether it is signed; 400 naming what is wrong. */
export function checkedBundle(
  archive: Buffer,
  verify: BundleVerifier,
): { files: BundleFiles; revision: string; signed: boolean } {
  try {
    const files = readBundle(archive);
    const { signed } = verify(files);
    const revision = bundleId(files);
    const claimed = readManifest(files).revision;
    if (claimed !== undefined && claimed !== '' && claimed !== revision) {
      throw new BundleError(
        `the bundle's manifest names revision ${JSON.stringify(claimed)}, but its files make it ${revision}`,
        'bundle_revision_mismatch',
      );
    }
    return { files, revision, signed };
  } catch (error) {
    if (error instanceof BundleError) throw badRequest(error.code, error.message);
    throw error;
  }
}

/** The checked bundle loaded as a policy; 400 bundle_invalid when it cannot be. */
export function compiledBundle(files: BundleFiles, revision: string): Policy {
  try {
    return PolicyEngine.fromFiles(files, (name) => name, revision);
  } catch (error) {
    if (error instanceof PolicyLoadError) throw badRequest('bundle_invalid', error.message, { revision });
    throw error;
  }
}
