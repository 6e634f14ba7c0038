// The ids an address may carry to a page, checked before the page asks the API about them: a value
// that is not one is said to be so, and never sent (a crafted one could name another path).

/** A decision id: a UUID. */
export const isDecisionId = (value: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** A policy revision: 32 lowercase hex digits (PolicyRevisionId in openapi/clearance.yaml). */
export const isRevision = (value: string): boolean => /^[0-9a-f]{32}$/.test(value);

/** An account, client or user id: the Id schema of openapi/clearance.yaml. */
export const isId = (value: string): boolean => /^(?!\.\.?$)[A-Za-z0-9_.:-]{1,128}$/.test(value);
