// The entrypoints a compiled policy offers and the contracts that name them: which entrypoints a
// bundle built for a contract has, and which contracts this service can serve.

export const DECISION_ENTRYPOINT = 'clearance/decision';
export const VERDICT_ENTRYPOINT = 'clearance/verdict';
export const DECISIONS_ENTRYPOINT = 'clearance/decisions';
export const SUBJECTS_ENTRYPOINT = 'clearance/subject_decisions';
export const RESOURCES_ENTRYPOINT = 'clearance/resource_decisions';
export const MESSAGES_ENTRYPOINT = 'clearance/messages';
export const MASK_ENTRYPOINT = 'clearance/log/mask';
export const LOGGED_VERDICT_ENTRYPOINT = 'clearance/logged_verdict';

const V1_ENTRYPOINTS = [
  DECISION_ENTRYPOINT,
  VERDICT_ENTRYPOINT,
  DECISIONS_ENTRYPOINT,
  SUBJECTS_ENTRYPOINT,
  RESOURCES_ENTRYPOINT,
  MESSAGES_ENTRYPOINT,
  MASK_ENTRYPOINT,
] as const;

/**
 * The entrypoint contracts this service serves: a bundle's manifest names the one it was built
 * for (metadata.contract, from policies/manifest.json). A change of entrypoints or of what they
 * take and give is a new contract; the service refuses a bundle of one it cannot serve, on upload
 * and on activation, so no stored revision becomes a rollback target it cannot use.
 */
export const CONTRACTS = {
  'clearance/v1': V1_ENTRYPOINTS,
  /** v1 and logged_verdict: a single decision and its log masks in one call. */
  'clearance/v2': [...V1_ENTRYPOINTS, LOGGED_VERDICT_ENTRYPOINT],
} as const;
export type Contract = keyof typeof CONTRACTS;

export const isContract = (contract: unknown): contract is Contract =>
  typeof contract === 'string' && Object.hasOwn(CONTRACTS, contract);

/** Why a bundle built for contract (its manifest's metadata.contract) cannot be served here. */
export function unservedContract(contract: unknown): string {
  const served = Object.keys(CONTRACTS).join(', ');
  return contract === undefined
    ? `the bundle's manifest names no entrypoint contract (metadata.contract); this service serves ${served}`
    : `the bundle was built for the entrypoint contract ${JSON.stringify(contract)}; this service serves ${served}`;
}
