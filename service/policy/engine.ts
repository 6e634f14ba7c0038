// The only module that touches WebAssembly: loads the compiled policy once and evaluates it
// synchronously. Every failure becomes a refusal with the policy_error code, never an exception.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import {
  type ClientListInput,
  expandEntry,
  expandList,
  type LogMask,
  type PolicyResult,
  type ResourceListInput,
  type SubjectListInput,
  policyError,
  toLogMask,
} from './answers.ts';
import { type BundleFiles, DATA, MANIFEST, readManifest, WASM } from './bundle.ts';
import {
  CONTRACTS,
  DECISIONS_ENTRYPOINT,
  isContract,
  LOGGED_VERDICT_ENTRYPOINT,
  MASK_ENTRYPOINT,
  MESSAGES_ENTRYPOINT,
  RESOURCES_ENTRYPOINT,
  SUBJECTS_ENTRYPOINT,
  unservedContract,
  VERDICT_ENTRYPOINT,
} from './contracts.ts';
import { Evaluator } from './evaluator.ts';
import type { DecisionEndpoint } from '../data/schema.ts';

// The SDK is CommonJS whose named exports Node cannot detect statically.
const { loadPolicySync } = createRequire(import.meta.url)(
  '@open-policy-agent/opa-wasm',
) as typeof import('@open-policy-agent/opa-wasm');

export class PolicyLoadError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'PolicyLoadError';
  }
}

/** A single decision as the decision path logs it. */
export interface LoggedDecision {
  result: PolicyResult;
  /**
   * The masks of its log entry, given by the same call; null when they were not (a revision built
   * for clearance/v1, or an answer whose masks were malformed): the log then asks logMasks, and
   * keeps no input it cannot vet.
   */
  masks: LogMask[] | null;
  /**
   * The input as the policy was given it, JSON text: the log stores it without encoding it again;
   * '' when it could not be written as JSON (the result is then a policy_error refusal).
   */
  inputJson: string;
}

/**
 * What the service asks of a policy: the loaded engine, or a stand-in built around one
 * (BuildOptions.policyEngine; tests switch faults on and off with it).
 */
export type Policy = Pick<
  PolicyEngine,
  | 'revision'
  | 'decide'
  | 'decideLogged'
  | 'decideJson'
  | 'decideClients'
  | 'decideSubjects'
  | 'decideResources'
  | 'logMasks'
>;

export class PolicyEngine {
  readonly revision: string;
  readonly #policy: LoadedPolicy;
  readonly #evaluator: Evaluator | null;
  readonly #entrypoints: Record<string, number>;
  /** Whether its contract has clearance/logged_verdict (clearance/v2 on). */
  #logged = false;
  /** The message of every reason code, as the policy gives them. */
  #messages: ReadonlyMap<string, string> = new Map();

  private constructor(policy: LoadedPolicy, revision: string) {
    this.#policy = policy;
    this.revision = revision;
    this.#entrypoints = policy.entrypoints as Record<string, number>;
    this.#evaluator = Evaluator.supports(policy) ? new Evaluator(policy) : null;
  }

  /**
   * Loads a built policy folder as `make policies` leaves it: policy.wasm, its data (data.json:
   * the policy's constant tables, which the build evaluates once) and the manifest (.manifest).
   */
  static load(dir: string): PolicyEngine {
    const read = (name: string, missing: string): Buffer => {
      try {
        return readFileSync(join(dir, name));
      } catch (error) {
        throw new PolicyLoadError(missing, error);
      }
    };
    const files = new Map<string, Buffer>([
      [WASM, read(WASM, `no compiled policy at ${join(dir, WASM)} (run "make policies")`)],
      [MANIFEST, read(MANIFEST, `the policy bundle manifest at ${join(dir, MANIFEST)} is missing`)],
      [DATA, read(DATA, `no policy data at ${join(dir, DATA)} (run "make policies")`)],
    ]);
    return PolicyEngine.fromFiles(files, (name) => join(dir, name));
  }

  /**
   * Loads a policy bundle's files: the module, its data and the manifest, whose revision names
   * it (a stored revision's id is the bundle's, which the build writes there too) and whose
   * contract must be one this service serves. `where` names a file in messages; `id`, the
   * revision's id when the bundle is a stored one (computed from its files, whatever the manifest says).
   */
  static fromFiles(files: BundleFiles, where: (name: string) => string = (name) => name, id?: string): PolicyEngine {
    let revision: string;
    let contract: unknown;
    try {
      const manifest = readManifest(files);
      const named = id ?? manifest.revision;
      if (typeof named !== 'string' || named === '') throw new Error('manifest has no revision');
      revision = named;
      contract = manifest.metadata?.contract;
    } catch (error) {
      throw new PolicyLoadError(
        `the policy bundle manifest at ${where(MANIFEST)} is missing or has no revision`,
        error,
      );
    }
    if (!isContract(contract)) throw new PolicyLoadError(unservedContract(contract));
    const wasm = files.get(WASM);
    if (wasm === undefined) throw new PolicyLoadError(`no compiled policy at ${where(WASM)} (run "make policies")`);
    let policy: LoadedPolicy;
    try {
      policy = loadPolicySync(wasm, { initial: 16, maximum: 16384 });
    } catch (error) {
      throw new PolicyLoadError(`${where(WASM)} is not a loadable OPA WebAssembly policy`, error);
    }
    // The module reads its constant tables from this data: without it every table is missing.
    const data = files.get(DATA);
    if (data === undefined) throw new PolicyLoadError(`no policy data at ${where(DATA)} (run "make policies")`);
    try {
      policy.setData(JSON.parse(data.toString('utf8')));
    } catch (error) {
      throw new PolicyLoadError(`the policy data at ${where(DATA)} is not loadable JSON`, error);
    }
    const engine = new PolicyEngine(policy, revision);
    for (const entrypoint of CONTRACTS[contract]) {
      if (!(entrypoint in engine.#entrypoints)) {
        throw new PolicyLoadError(`the compiled policy has no entrypoint ${entrypoint}`);
      }
    }
    engine.#messages = engine.#loadMessages();
    // The contract says which entrypoints are called: a revision built for clearance/v1 is served
    // as one, with its masks asked for apart.
    engine.#logged = (CONTRACTS[contract] as readonly string[]).includes(LOGGED_VERDICT_ENTRYPOINT);
    return engine;
  }

  /** The messages table, read once: compact decisions carry codes only. */
  #loadMessages(): Map<string, string> {
    let messages: unknown;
    try {
      messages = this.#evaluate(null, MESSAGES_ENTRYPOINT);
    } catch (error) {
      throw new PolicyLoadError(`the policy's ${MESSAGES_ENTRYPOINT} failed: ${(error as Error).message}`, error);
    }
    if (messages === undefined) {
      // The table is data (tables.rego): a bundle whose data.json lacks it has none.
      throw new PolicyLoadError(
        `the policy's ${MESSAGES_ENTRYPOINT} is undefined: its constant tables (data.json) lack the messages table`,
      );
    }
    if (typeof messages !== 'object' || messages === null || Array.isArray(messages)) {
      throw new PolicyLoadError(`the policy's ${MESSAGES_ENTRYPOINT} is not an object`);
    }
    const table = new Map<string, string>();
    for (const [code, message] of Object.entries(messages)) {
      if (typeof message !== 'string') throw new PolicyLoadError(`the policy's message for ${code} is not a string`);
      table.set(code, message);
    }
    return table;
  }

  /**
   * The value of the entrypoint for input; undefined when the policy leaves it undefined. An
   * undefined input is no input at all (the policy's defaults apply, as in OPA without input).
   */
  #evaluate(input: unknown, entrypoint: string): unknown {
    // Otherwise always passed as JSON: a falsy input (null, 0, "", false) reaches the policy as a
    // value, as it would in OPA (the SDK's evaluate would drop it as "no input"). The module reads
    // input of length 0 as none.
    return this.#evaluateJson(input === undefined ? '' : JSON.stringify(input), entrypoint);
  }

  /** The value of the entrypoint for input given as JSON text ('' for no input). */
  #evaluateJson(json: string, entrypoint: string): unknown {
    const id = this.#entrypoints[entrypoint] as number;
    const resultSet = (
      this.#evaluator === null
        ? this.#policy.evaluate(json === '' ? undefined : new TextEncoder().encode(json).buffer, id)
        : this.#evaluator.evaluate(json, id)
    ) as Array<{ result?: unknown }> | undefined;
    if (!Array.isArray(resultSet) || resultSet.length === 0) return undefined;
    return resultSet[0]?.result;
  }

  /**
   * One decision for one fully loaded input: clearance/decision's answer, read through
   * clearance/verdict (the same decision with codes for reasons) and the messages table. For an
   * undefined input, the policy's default decision (what OPA answers without input).
   */
  decide(input: unknown): PolicyResult {
    try {
      return expandEntry(this.#evaluate(input, VERDICT_ENTRYPOINT), this.#messages);
    } catch (error) {
      return policyError(`policy evaluation failed: ${(error as Error).message ?? String(error)}`);
    }
  }

  /** decide for an input given as JSON text (a logged input, replayed as it was stored). */
  decideJson(json: string): PolicyResult {
    try {
      return expandEntry(this.#evaluateJson(json, VERDICT_ENTRYPOINT), this.#messages);
    } catch (error) {
      return policyError(`policy evaluation failed: ${(error as Error).message ?? String(error)}`);
    }
  }

  /**
   * decide for a request, with the masks of the log entry the endpoint makes of it, in one call
   * of clearance/logged_verdict where the bundle has it (else decide, and masks null).
   */
  decideLogged(input: unknown, endpoint: DecisionEndpoint): LoggedDecision {
    let inputJson: string;
    try {
      inputJson = JSON.stringify(input);
    } catch (error) {
      return {
        result: policyError(`policy input not serializable: ${(error as Error).message}`),
        masks: null,
        inputJson: '',
      };
    }
    if (!this.#logged) return { result: this.decideJson(inputJson), masks: null, inputJson };
    let value: unknown;
    try {
      value = this.#evaluateJson(
        `{"endpoint":${JSON.stringify(endpoint)},"input":${inputJson}}`,
        LOGGED_VERDICT_ENTRYPOINT,
      );
    } catch (error) {
      const result = policyError(`policy evaluation failed: ${(error as Error).message ?? String(error)}`);
      return { result, masks: null, inputJson };
    }
    const [verdict, masks] = Array.isArray(value) && value.length === 2 ? value : [undefined, undefined];
    return { result: expandEntry(verdict, this.#messages), masks: masksOf(masks), inputJson };
  }

  /**
   * Decisions for many clients of one subject and action, in the order given. Clients with the
   * same decision share one frozen result.
   */
  decideClients(input: ClientListInput): PolicyResult[] {
    return this.#decideList(input, input.clients.length, DECISIONS_ENTRYPOINT, 'clients');
  }

  /**
   * Decisions for many subjects of one action and resource, in the order given: each what decide
   * gives for its own request. Subjects with the same decision share one frozen result.
   */
  decideSubjects(input: SubjectListInput): PolicyResult[] {
    return this.#decideList(input, input.subjects.length, SUBJECTS_ENTRYPOINT, 'subjects');
  }

  /** Decisions for many resources of one type, for one subject and action, in the order given. */
  decideResources(input: ResourceListInput): PolicyResult[] {
    return this.#decideList(input, input.resources.length, RESOURCES_ENTRYPOINT, 'resources');
  }

  #decideList(
    input: object,
    count: number,
    entrypoint: string,
    listed: 'clients' | 'subjects' | 'resources',
  ): PolicyResult[] {
    let value: unknown;
    try {
      value = this.#evaluate(input, entrypoint);
    } catch (error) {
      return Array.from({ length: count }, () =>
        policyError(`policy evaluation failed: ${(error as Error).message ?? String(error)}`),
      );
    }
    const results = expandList(value, count, this.#messages, listed);
    return (
      results ??
      Array.from({ length: count }, () => policyError('the policy returned malformed decisions for the list'))
    );
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

/** The masks logged_verdict gave, or null when they are not a list of masks (logMasks then says why). */
function masksOf(value: unknown): LogMask[] | null {
  if (!Array.isArray(value)) return null;
  const masks: LogMask[] = [];
  for (const element of value) {
    const mask = toLogMask(element);
    if (mask === null) return null;
    masks.push(mask);
  }
  return masks;
}
