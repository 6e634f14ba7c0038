// Faults a test switches on and off, handed to the app when it is built (BuildOptions.policyEngine)
// rather than patched into an app already built: a policy built around the compiled one, evaluated
// as usual until the test makes its decisions or its log masks fail.
import { resolve } from 'node:path';
import { policyError } from '../../service/policy/answers.ts';
import { PolicyEngine, type Policy } from '../../service/policy/engine.ts';

const POLICY_DIR = resolve(import.meta.dirname, '../../.build/policy');

export interface FaultyPolicy {
  /** The policy to build the app with. */
  engine: Policy;
  /** From now on every decision (single or list) is a policy fault saying message. */
  failDecisions(message: string): void;
  /** From now on the log mask rule cannot be evaluated. */
  failMasks(message: string): void;
  /** Back to the compiled policy's own answers. */
  heal(): void;
}

export function faultyPolicy(dir = POLICY_DIR): FaultyPolicy {
  const real = PolicyEngine.load(dir);
  let decisionFault: string | null = null;
  let maskFault: string | null = null;
  // The compiled policy's revision, and its evaluations unless a fault is on.
  const engine: Policy = {
    revision: real.revision,
    decide: (input) => (decisionFault === null ? real.decide(input) : policyError(decisionFault)),
    decideLogged: (input, endpoint) => {
      if (decisionFault !== null)
        return { result: policyError(decisionFault), masks: null, inputJson: JSON.stringify(input) };
      // A mask fault: the masks are asked for on their own (logMasks), which fails.
      const logged = real.decideLogged(input, endpoint);
      return maskFault === null ? logged : { ...logged, masks: null };
    },
    decideJson: (json) => (decisionFault === null ? real.decideJson(json) : policyError(decisionFault)),
    decideClients: (input) =>
      decisionFault === null
        ? real.decideClients(input)
        : input.clients.map(() => policyError(decisionFault as string)),
    decideSubjects: (input) =>
      decisionFault === null
        ? real.decideSubjects(input)
        : input.subjects.map(() => policyError(decisionFault as string)),
    decideResources: (input) =>
      decisionFault === null
        ? real.decideResources(input)
        : input.resources.map(() => policyError(decisionFault as string)),
    logMasks: (entry) => {
      if (maskFault !== null) throw new Error(maskFault);
      return real.logMasks(entry);
    },
  };
  return {
    engine,
    failDecisions: (message) => {
      decisionFault = message;
    },
    failMasks: (message) => {
      maskFault = message;
    },
    heal: () => {
      decisionFault = null;
      maskFault = null;
    },
  };
}
