// Clients as clearance/decisions takes them: a row [id, account_id, ledger, allocated,
// ledger_access] stands for the found client resource with those facts and no attributes.
import type { ClientTuple } from '../../service/policy/answers.ts';
import { isJsonObject, type Json } from './json.ts';

const ROW_KEYS = ['account_id', 'allocated', 'attributes', 'found', 'id', 'ledger', 'ledger_access', 'type'].join();

/** The row a resource stands for in a list of clients; null when no row can stand for it. */
export function clientRow(resource: Json | undefined): ClientTuple | null {
  if (!isJsonObject(resource) || Object.keys(resource).sort().join() !== ROW_KEYS) return null;
  const attributes = resource.attributes;
  if (
    resource.type !== 'client' ||
    resource.found !== true ||
    !isJsonObject(attributes) ||
    Object.keys(attributes).length > 0
  )
    return null;
  return [
    resource.id,
    resource.account_id,
    resource.ledger,
    resource.allocated,
    resource.ledger_access,
  ] as unknown as ClientTuple;
}
