// The only module that touches WebAssembly: loads the compiled policy once and evaluates it
// synchronously. Every failure becomes a refusal with the policy_error code, never an exception.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';

// The SDK is CommonJS whose named exports Node cannot detect statically.
const { loadPolicySync } = createRequire(import.meta.url)('@open-policy-agent/opa-wasm') as typeof import('@open-policy-agent/opa-wasm');

export interface Reason {
  code: string;
  message: string;
}

export interface PolicyResult {
  allow: boolean;
  reasons: Reason[];
}

export const DECISION_ENTRYPOINT = 'clearance/decision';
export const DECISIONS_ENTRYPOINT = 'clearance/decisions';
export const MASK_ENTRYPOINT = 'clearance/log/mask';

/** What the log policy asks to hide in one log entry: a JSON pointer to remove, or a value to put in its place. */
export type LogMask = { op: 'remove'; path: string } | { op: 'upsert'; path: string; value: unknown };

function toLogMask(value: unknown): LogMask | null {
  if (typeof value === 'string' && value.startsWith('/')) return { op: 'remove', path: value };
  if (typeof value !== 'object' || value === null) return null;
  const { op, path, value: replacement } = value as { op?: unknown; path?: unknown; value?: unknown };
  if (typeof path !== 'string' || !path.startsWith('/')) return null;
  if (op === 'remove') return { op, path };
  if (op === 'upsert' && 'value' in value) return { op, path, value: replacement };
  return null;
}

export class PolicyLoadError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'PolicyLoadError';
  }
}

export function policyError(message: string): PolicyResult {
  return { allow: false, reasons: [{ code: 'policy_error', message }] };
}

function isReason(value: unknown): value is Reason {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Reason).code === 'string' &&
    typeof (value as Reason).message === 'string'
  );
}

/** Accepts only a well-formed result; anything else is a refusal. */
function checkResult(value: unknown): PolicyResult {
  if (typeof value !== 'object' || value === null) return policyError('the policy returned no decision');
  const { allow, reasons } = value as { allow?: unknown; reasons?: unknown };
  if (typeof allow !== 'boolean' || !Array.isArray(reasons) || !reasons.every(isReason)) {
    return policyError('the policy returned a malformed decision');
  }
  return { allow, reasons: reasons.map(({ code, message }) => ({ code, message })) };
}

export class PolicyEngine {
  readonly revision: string;
  readonly #policy: LoadedPolicy;

  private constructor(policy: LoadedPolicy, revision: string) {
    this.#policy = policy;
    this.revision = revision;
  }

  /** Loads policy.wasm and the bundle manifest's revision from a built policy folder. */
  static load(dir: string): PolicyEngine {
    let wasm: Buffer;
    try {
      wasm = readFileSync(join(dir, 'policy.wasm'));
    } catch (error) {
      throw new PolicyLoadError(`no compiled policy at ${join(dir, 'policy.wasm')} (run "make policies")`, error);
    }
    let revision: string;
    try {
      const manifest = JSON.parse(readFileSync(join(dir, '.manifest'), 'utf8')) as { revision?: unknown };
      if (typeof manifest.revision !== 'string' || manifest.revision === '') throw new Error('manifest has no revision');
      revision = manifest.revision;
    } catch (error) {
      throw new PolicyLoadError(`the policy bundle manifest at ${join(dir, '.manifest')} is missing or has no revision`, error);
    }
    let policy: LoadedPolicy;
    try {
      policy = loadPolicySync(wasm, { initial: 16, maximum: 16384 });
    } catch (error) {
      throw new PolicyLoadError(`${join(dir, 'policy.wasm')} is not a loadable OPA WebAssembly policy`, error);
    }
    const engine = new PolicyEngine(policy, revision);
    for (const entrypoint of [DECISION_ENTRYPOINT, DECISIONS_ENTRYPOINT, MASK_ENTRYPOINT]) {
      if (!(entrypoint in (policy.entrypoints as Record<string, number>))) {
        throw new PolicyLoadError(`the compiled policy has no entrypoint ${entrypoint}`);
      }
    }
    return engine;
  }

  #evaluate(input: unknown, entrypoint: string): unknown {
    // The SDK skips a falsy input (null, 0, "", false) as if none were given; passed as JSON
    // bytes it reaches the policy like any other value, as it would in OPA.
    const given = input ? input : new TextEncoder().encode(JSON.stringify(input ?? null)).buffer;
    const resultSet = this.#policy.evaluate(given, entrypoint) as Array<{ result?: unknown }> | undefined;
    if (!Array.isArray(resultSet) || resultSet.length === 0) return undefined;
    return resultSet[0]?.result;
  }

  /** One decision for one fully loaded input. */
  decide(input: unknown): PolicyResult {
    try {
      return checkResult(this.#evaluate(input, DECISION_ENTRYPOINT));
    } catch (error) {
      return policyError(`policy evaluation failed: ${(error as Error).message}`);
    }
  }

  /** Decisions for many resources of one subject and action, in the order given. */
  decideMany(input: { resources: unknown[] } & Record<string, unknown>): PolicyResult[] {
    const count = input.resources.length;
    let value: unknown;
    try {
      value = this.#evaluate(input, DECISIONS_ENTRYPOINT);
    } catch (error) {
      return Array.from({ length: count }, () => policyError(`policy evaluation failed: ${(error as Error).message}`));
    }
    if (!Array.isArray(value) || value.length !== count) {
      return Array.from({ length: count }, () => policyError('the policy returned the wrong number of decisions'));
    }
    return value.map(checkResult);
  }

  /**
   * The masks the log policy gives for one decision log entry ({endpoint, input, result}).
   * Throws when the policy fails or answers something that is not a list of masks: the caller
   * must then keep nothing it was unable to vet.
   */
  logMasks(entry: unknown): LogMask[] {
    const value = this.#evaluate(entry, MASK_ENTRYPOINT);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new Error('the log mask policy did not return a set');
    return value.map((element) => {
      const mask = toLogMask(element);
      if (mask === null) throw new Error(`the log mask policy returned a malformed mask: ${JSON.stringify(element)}`);
      return mask;
    });
  }
}
